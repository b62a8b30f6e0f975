// Node's ldapjs (callback API) against ldapd, over LDAPS and over LDAP with
// StartTLS: token bind, search-then-bind as the user, a wrong password,
// a paged search. Exits non-zero on the first failure.
const { readFileSync } = require('node:fs');
const ldap = require('ldapjs');

const { MODE, PORT, BASE, TOKEN, USER_PW, CA } = process.env;
const tlsOptions = { ca: [readFileSync(CA)], servername: 'localhost' };
const url = MODE === 'ldaps' ? `ldaps://localhost:${PORT}` : `ldap://localhost:${PORT}`;
const ok = (m) => console.log(`ok: ${m}`);
const p = (fn) => new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));

async function connect() {
  const c = ldap.createClient({ url, tlsOptions: MODE === 'ldaps' ? tlsOptions : undefined, timeout: 10000, connectTimeout: 10000 });
  c.on('error', (e) => { throw e; });
  if (MODE === 'starttls') await p((cb) => c.starttls(tlsOptions, [], cb));
  return c;
}
function search(c, opts) {
  return new Promise((resolve, reject) => {
    c.search(BASE, opts, (err, res) => {
      if (err) return reject(err);
      const entries = [];
      res.on('searchEntry', (e) => entries.push(e));
      res.on('error', reject);
      res.on('end', (r) => (r.status === 0 ? resolve(entries) : reject(new Error(`status ${r.status}`))));
    });
  });
}

(async () => {
  const c = await connect();
  await p((cb) => c.bind('dn=token', TOKEN, cb));
  ok('token bind');
  const found = await search(c, { scope: 'sub', filter: '(&(objectClass=posixAccount)(uid=demo_user))', attributes: ['uid'] });
  if (found.length !== 1) throw new Error(`search found ${found.length}`);
  const dn = found[0].objectName.toString();
  ok(`found ${dn}`);
  const paged = await search(c, { scope: 'sub', filter: '(objectClass=posixAccount)', attributes: ['uid'], paged: { pageSize: 1 } });
  if (paged.length < 2) throw new Error(`paged search found ${paged.length}`);
  ok(`paged search: ${paged.length} entries`);
  const u = await connect();
  await p((cb) => u.bind(dn, USER_PW, cb));
  ok('user bind');
  const w = await connect();
  try {
    await p((cb) => w.bind(dn, `wrong-${USER_PW}`, cb));
    throw new Error('wrong password accepted');
  } catch (e) {
    if (!(e instanceof ldap.InvalidCredentialsError)) throw e;
  }
  ok('wrong password refused (49)');
  for (const x of [c, u, w]) x.unbind();
})().catch((e) => { console.error(e); process.exit(1); });
