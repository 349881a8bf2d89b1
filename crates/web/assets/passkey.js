// Passkeys (WebAuthn) in the Servicekonto: registration on the account page and the login's
// second step. Progressive enhancement: the forms marked data-passkey stay hidden until this
// script finds WebAuthn in the browser. On submit it asks the form's data-optionen endpoint
// for the options (with the form's CSRF token), runs navigator.credentials.create/get, writes
// the answer into the hidden fields and submits the form normally; the server redirects.
(function () {
  "use strict";

  function fromBase64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var binary = atob(b64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // WebIDL refuses null for optional members: drop them.
  function withoutNulls(value) {
    if (Array.isArray(value)) return value.map(withoutNulls);
    if (value && typeof value === "object") {
      var out = {};
      Object.keys(value).forEach(function (k) {
        if (value[k] !== null && value[k] !== undefined) out[k] = withoutNulls(value[k]);
      });
      return out;
    }
    return value;
  }

  function decodeIds(list) {
    (list || []).forEach(function (c) {
      c.id = fromBase64url(c.id);
    });
  }

  function creationOptions(options) {
    var pk = withoutNulls(options.publicKey);
    pk.challenge = fromBase64url(pk.challenge);
    pk.user.id = fromBase64url(pk.user.id);
    decodeIds(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(options) {
    var pk = withoutNulls(options.publicKey);
    pk.challenge = fromBase64url(pk.challenge);
    decodeIds(pk.allowCredentials);
    return { publicKey: pk };
  }

  function registrationAnswer(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: toBase64url(r.attestationObject),
        clientDataJSON: toBase64url(r.clientDataJSON),
        transports: typeof r.getTransports === "function" ? r.getTransports() : undefined,
      },
      extensions: cred.getClientExtensionResults(),
    };
  }

  function assertionAnswer(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: toBase64url(r.authenticatorData),
        clientDataJSON: toBase64url(r.clientDataJSON),
        signature: toBase64url(r.signature),
        userHandle: r.userHandle ? toBase64url(r.userHandle) : null,
      },
      extensions: cred.getClientExtensionResults(),
    };
  }

  function message(err) {
    switch (err && err.name) {
      case "NotAllowedError":
        return "Der Vorgang wurde abgebrochen oder hat zu lange gedauert. Bitte versuchen Sie es erneut.";
      case "InvalidStateError":
        return "Dieser Passkey ist für Ihr Konto bereits eingerichtet.";
      case "SecurityError":
        return "Passkeys sind unter dieser Adresse nicht möglich.";
      default:
        return (err && err.message) || "Der Vorgang ist fehlgeschlagen.";
    }
  }

  function field(form, name) {
    return form.querySelector('input[name="' + name + '"]');
  }

  function setUp(form) {
    var create = form.getAttribute("data-passkey") === "create";
    var errorBox = form.querySelector("[data-passkey-fehler]");
    var supported =
      window.PublicKeyCredential && navigator.credentials && window.fetch && window.URLSearchParams;
    if (!supported) {
      document.querySelectorAll("[data-passkey-nicht-unterstuetzt]").forEach(function (p) {
        p.hidden = false;
      });
      return;
    }
    form.hidden = false;
    var busy = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) return;
      busy = true;
      errorBox.hidden = true;
      errorBox.textContent = "";
      var body = new URLSearchParams();
      body.append("csrf", field(form, "csrf").value);
      var pending = field(form, "vorgang");
      if (pending) body.append("vorgang", pending.value);
      fetch(form.getAttribute("data-optionen"), {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (res) {
          return res.json().then(function (json) {
            if (!res.ok) throw new Error(json.fehler || "Der Vorgang ist fehlgeschlagen.");
            return json;
          });
        })
        .then(function (json) {
          field(form, "passkey_vorgang").value = json.vorgang;
          return create
            ? navigator.credentials.create(creationOptions(json.optionen))
            : navigator.credentials.get(requestOptions(json.optionen));
        })
        .then(function (cred) {
          if (!cred) throw new Error("Der Browser hat keinen Passkey geliefert.");
          var answer = create ? registrationAnswer(cred) : assertionAnswer(cred);
          field(form, "antwort").value = JSON.stringify(answer);
          form.submit();
        })
        .catch(function (err) {
          busy = false;
          var p = document.createElement("p");
          p.textContent = message(err);
          errorBox.appendChild(p);
          errorBox.hidden = false;
        });
    });
  }

  document.querySelectorAll("form[data-passkey]").forEach(setUp);
})();
