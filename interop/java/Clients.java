// Java's JNDI LDAP provider against ldapd, over LDAPS and over LDAP with
// StartTLS: token bind, a paged search (the Simple Paged Results control,
// one entry per page), search-then-bind as the user, a wrong password.
// Run as a single-file source program (java Clients.java); the CA comes
// from the trust store run.sh makes. Prints one line per check and exits
// non-zero on the first failure.
import java.util.Hashtable;
import javax.naming.AuthenticationException;
import javax.naming.Context;
import javax.naming.NamingEnumeration;
import javax.naming.directory.SearchControls;
import javax.naming.directory.SearchResult;
import javax.naming.ldap.Control;
import javax.naming.ldap.InitialLdapContext;
import javax.naming.ldap.LdapContext;
import javax.naming.ldap.PagedResultsControl;
import javax.naming.ldap.PagedResultsResponseControl;
import javax.naming.ldap.StartTlsRequest;
import javax.naming.ldap.StartTlsResponse;

public class Clients {
	static final String MODE = System.getenv("MODE"), PORT = System.getenv("PORT"), BASE = System.getenv("BASE");

	static void ok(String m) { System.out.println("ok: " + m); }

	static LdapContext connect(String dn, String pw) throws Exception {
		Hashtable<String, Object> env = new Hashtable<>();
		env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.ldap.LdapCtxFactory");
		env.put("com.sun.jndi.ldap.connect.timeout", "10000");
		env.put("com.sun.jndi.ldap.read.timeout", "10000");
		if (MODE.equals("ldaps")) {
			env.put(Context.PROVIDER_URL, "ldaps://localhost:" + PORT);
			env.put(Context.SECURITY_AUTHENTICATION, "simple");
			env.put(Context.SECURITY_PRINCIPAL, dn);
			env.put(Context.SECURITY_CREDENTIALS, pw);
			return new InitialLdapContext(env, null);
		}
		env.put(Context.PROVIDER_URL, "ldap://localhost:" + PORT);
		env.put(Context.SECURITY_AUTHENTICATION, "none");
		LdapContext ctx = new InitialLdapContext(env, null);
		StartTlsResponse tls = (StartTlsResponse) ctx.extendedOperation(new StartTlsRequest());
		tls.negotiate();
		ctx.addToEnvironment(Context.SECURITY_AUTHENTICATION, "simple");
		ctx.addToEnvironment(Context.SECURITY_PRINCIPAL, dn);
		ctx.addToEnvironment(Context.SECURITY_CREDENTIALS, pw);
		ctx.reconnect(null); // binds now, over TLS
		return ctx;
	}

	public static void main(String[] args) throws Exception {
		LdapContext ctx = connect("dn=token", System.getenv("TOKEN"));
		ok("token bind");
		SearchControls sc = new SearchControls();
		sc.setSearchScope(SearchControls.SUBTREE_SCOPE);
		sc.setReturningAttributes(new String[] {"uid"});
		ctx.setRequestControls(new Control[] {new PagedResultsControl(1, Control.CRITICAL)});
		int entries = 0, pages = 0;
		String userDN = null;
		byte[] cookie;
		do {
			NamingEnumeration<SearchResult> res = ctx.search(BASE, "(objectClass=posixAccount)", sc);
			while (res.hasMore()) {
				SearchResult r = res.next();
				entries++;
				if ("demo_user".equals(r.getAttributes().get("uid").get())) userDN = r.getNameInNamespace();
			}
			pages++;
			cookie = null;
			Control[] rc = ctx.getResponseControls();
			if (rc != null) for (Control c : rc) if (c instanceof PagedResultsResponseControl p) cookie = p.getCookie();
			ctx.setRequestControls(new Control[] {new PagedResultsControl(1, cookie, Control.CRITICAL)});
		} while (cookie != null && cookie.length > 0 && pages < 20);
		if (entries < 2 || pages < 2 || userDN == null) throw new Exception("paged search: " + entries + " entries in " + pages + " pages, demo_user " + userDN);
		ok("paged search: " + entries + " entries in " + pages + " pages");
		ctx.close();
		connect(userDN, System.getenv("USER_PW")).close();
		ok("user bind " + userDN);
		try {
			connect(userDN, "wrong-" + System.getenv("USER_PW")).close();
			throw new Exception("wrong password accepted");
		} catch (AuthenticationException e) {
			ok("wrong password refused");
		}
	}
}
