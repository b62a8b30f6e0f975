// Node's ldapts against ldapd, over LDAPS and over LDAP with StartTLS:
// token bind, search-then-bind as the user, a wrong password (49), a
// paged search, Kanidm's memberOf by name. Exits non-zero on the first
// failure.
import { readFileSync } from 'node:fs';
import { Client, InvalidCredentialsError } from 'ldapts';

const { MODE, PORT, BASE, TOKEN, USER_PW, DOMAIN, CA } = process.env;
const tlsOptions = { ca: [readFileSync(CA)], servername: 'localhost' };
const url = MODE === 'ldaps' ? `ldaps://localhost:${PORT}` : `ldap://localhost:${PORT}`;

async function connect() {
  const c = new Client({ url, tlsOptions: MODE === 'ldaps' ? tlsOptions : undefined, timeout: 10000, connectTimeout: 10000 });
  if (MODE === 'starttls') await c.startTLS(tlsOptions);
  return c;
}
const ok = (m) => console.log(`ok: ${m}`);

const c = await connect();
await c.bind('dn=token', TOKEN);
ok('token bind');
const { searchEntries } = await c.search(BASE, { scope: 'sub', filter: '(&(objectClass=posixAccount)(uid=demo_user))', attributes: ['uid', 'uidNumber'] });
if (searchEntries.length !== 1) throw new Error(`search found ${searchEntries.length}`);
const dn = searchEntries[0].dn;
ok(`found ${dn}`);
const u = await connect();
await u.bind(dn, USER_PW);
ok('user bind');
await u.unbind();
const w = await connect();
try {
  await w.bind(dn, `wrong-${USER_PW}`);
  throw new Error('wrong password accepted');
} catch (e) {
  if (!(e instanceof InvalidCredentialsError)) throw e;
}
ok('wrong password refused (49)');
await w.unbind();
const paged = await c.search(BASE, { scope: 'sub', filter: '(objectClass=posixAccount)', attributes: ['uid'], paged: { pageSize: 1 } });
if (paged.searchEntries.length < 2) throw new Error(`paged search found ${paged.searchEntries.length}`);
ok(`paged search: ${paged.searchEntries.length} entries`);
const k = await c.search(BASE, { scope: 'sub', filter: `(&(class=account)(memberOf=demo_group@${DOMAIN}))`, attributes: ['uid'] });
const names = k.searchEntries.map((e) => e.uid).sort().join(',');
if (names !== 'demo_service,demo_user') throw new Error(`Kanidm filter: ${names}`);
ok(`Kanidm filter: ${names}`);
await c.unbind();
