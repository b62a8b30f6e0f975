// ldapd console: the pages call the JSON API (/v1) with the session's
// CSRF token. Everything the server sends is put into the page as text
// (textContent), never as HTML.
"use strict";

(function () {
  const meta = (name) => (document.querySelector('meta[name="' + name + '"]') || {}).content || "";
  const csrf = meta("ldapd-csrf");

  async function call(method, path, body) {
    const opts = { method: method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const resp = await fetch(path, opts);
    let data = null;
    if (resp.status !== 204) {
      try { data = await resp.json(); } catch (e) { data = null; }
    }
    if (!resp.ok) {
      let msg = (data && data.error) || ("the server answered " + resp.status);
      if (resp.status === 401 && path !== "/v1/login") {
        msg += " (sign in again: reload the page)";
      }
      const err = new Error(msg);
      err.status = resp.status;
      throw err;
    }
    return data;
  }

  function show(el, text) {
    if (!el) return;
    el.textContent = text;
    el.hidden = !text;
  }

  function fail(el, err) { show(el, "Error: " + err.message); }

  // Sign in.
  const login = document.getElementById("login-form");
  if (login) {
    login.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const out = document.getElementById("login-error");
      show(out, "");
      try {
        await call("POST", "/v1/login", { name: login.elements.name.value, password: login.elements.password.value });
        window.location.assign("/");
      } catch (err) {
        fail(out, err);
        login.elements.password.value = "";
        login.elements.password.focus();
      }
    });
  }

  // Sign out.
  const signOut = document.getElementById("sign-out");
  if (signOut) {
    signOut.addEventListener("click", async () => {
      try { await call("POST", "/v1/logout"); } catch (e) { /* the session is gone either way */ }
      window.location.assign("/login");
    });
  }

  // Token tables.
  function cell(tr, text) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function renderTokens(section, tokens) {
    const tbody = section.querySelector("table.tokens tbody");
    tbody.replaceChildren();
    if (tokens.length === 0) {
      const tr = document.createElement("tr");
      tr.className = "empty";
      const td = cell(tr, "No API tokens.");
      td.colSpan = 7;
      tbody.appendChild(tr);
      return;
    }
    for (const t of tokens) {
      const tr = document.createElement("tr");
      tr.dataset.token = t.token_id;
      cell(tr, t.label);
      cell(tr, t.purpose);
      cell(tr, t.issued_at);
      cell(tr, t.issued_by);
      cell(tr, t.expiry === null ? "never" : t.expiry);
      const idCell = cell(tr, "");
      const code = document.createElement("code");
      code.textContent = t.token_id;
      idCell.appendChild(code);
      const act = cell(tr, "");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "destroy";
      b.dataset.token = t.token_id;
      b.dataset.label = t.label;
      b.textContent = "Destroy…";
      act.appendChild(b);
      tbody.appendChild(tr);
    }
  }

  async function refresh(section) {
    const name = section.dataset.account;
    renderTokens(section, await call("GET", "/v1/service-accounts/" + encodeURIComponent(name) + "/api-tokens"));
  }

  for (const section of document.querySelectorAll("section.account")) {
    const name = section.dataset.account;
    const errEl = section.querySelector(".error");
    const status = section.querySelector(".status");
    const form = section.querySelector("form.generate");
    const panel = section.querySelector(".new-token");

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      show(errEl, "");
      const label = form.elements.label.value.trim();
      if (!label) {
        fail(errEl, new Error("give the token a label: what it is for"));
        form.elements.label.focus();
        return;
      }
      const exp = form.elements.expiry.value;
      try {
        const res = await call("POST", "/v1/service-accounts/" + encodeURIComponent(name) + "/api-tokens", {
          label: label,
          expiry: exp ? new Date(exp).toISOString().replace(/\.\d{3}Z$/, "Z") : null,
          rw: form.elements.rw.checked,
        });
        panel.querySelector(".token-value").textContent = res.token;
        const url = meta("ldapd-ldap-url");
        panel.querySelector(".try").textContent =
          "ldapwhoami" + (url ? " -H " + url : "") + " -x -D dn=token -w '" + res.token + "'";
        panel.hidden = false;
        form.reset();
        status.textContent = "Token " + res.token_id + " generated.";
        await refresh(section);
      } catch (err) {
        fail(errEl, err);
      }
    });

    panel.querySelector(".copy").addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(panel.querySelector(".token-value").textContent);
        status.textContent = "Token copied.";
      } catch (e) {
        status.textContent = "Copying failed: select the token and copy it.";
      }
    });

    // Destroy: the first press asks, the second destroys; Escape or
    // leaving the button cancels.
    section.addEventListener("click", async (ev) => {
      const b = ev.target.closest("button.destroy");
      if (!b) return;
      if (b.dataset.armed !== "yes") {
        b.dataset.armed = "yes";
        b.textContent = "Confirm: destroy “" + b.dataset.label + "”";
        status.textContent = "Press the button again to destroy token " + b.dataset.label + "; it stops working at once.";
        return;
      }
      show(errEl, "");
      try {
        await call("DELETE", "/v1/service-accounts/" + encodeURIComponent(name) + "/api-tokens/" + encodeURIComponent(b.dataset.token));
        status.textContent = "Token " + b.dataset.label + " destroyed.";
        await refresh(section);
      } catch (err) {
        fail(errEl, err);
      }
    });
    const disarm = (ev) => {
      const b = ev.target.closest && ev.target.closest("button.destroy");
      if (b && b.dataset.armed === "yes" && (ev.type === "focusout" || ev.key === "Escape")) {
        b.dataset.armed = "";
        b.textContent = "Destroy…";
        status.textContent = "Not destroyed.";
      }
    };
    section.addEventListener("focusout", disarm);
    section.addEventListener("keydown", disarm);
  }

  // My account: change the password.
  const pw = document.getElementById("password-form");
  if (pw) {
    pw.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const errEl = pw.querySelector(".error");
      show(errEl, "");
      if (pw.elements.new.value !== pw.elements.again.value) {
        fail(errEl, new Error("the two new passwords differ"));
        return;
      }
      try {
        await call("POST", "/v1/password", { old: pw.elements.old.value, new: pw.elements.new.value });
        window.location.assign("/login?changed=1");
      } catch (err) {
        fail(errEl, err);
      }
    });
  }

  // Administration forms: the named fields as JSON to the form's endpoint.
  for (const form of document.querySelectorAll("form.admin-form")) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const out = form.querySelector(".result");
      out.replaceChildren();
      const body = {};
      let path = form.dataset.endpoint;
      for (const el of form.querySelectorAll("input[name]")) {
        if (path.includes("{" + el.name + "}")) {
          path = path.replace("{" + el.name + "}", encodeURIComponent(el.value.trim()));
        } else {
          body[el.name] = el.value;
        }
      }
      const line = (text, cls) => {
        const p = document.createElement("p");
        p.textContent = text;
        if (cls) { p.className = cls; p.setAttribute("role", "alert"); }
        out.appendChild(p);
      };
      try {
        const res = await call("POST", path, body);
        line(res && res.dn ? "Created " + res.dn + "." : "Done.");
        if (res && res.password) {
          line("Its password (shown once): ");
          const code = document.createElement("code");
          code.textContent = res.password;
          out.lastChild.appendChild(code);
        }
        if (res && res.password_error) line("No password was set: " + res.password_error);
        form.reset();
      } catch (err) {
        line("Error: " + err.message, "error");
      }
    });
  }
})();
