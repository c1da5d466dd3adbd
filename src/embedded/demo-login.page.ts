const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const STYLE = `body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1d2733}
h1{font-size:1.4rem}code,pre{background:#f2f4f7;border-radius:4px;padding:.1rem .3rem;word-break:break-all;white-space:pre-wrap}
#status{font-size:1.3rem;font-weight:600;padding:.6rem 1rem;border-radius:6px;background:#fff4d6}
#status.APPROVED{background:#d9f7e3}#status.DENIED,#status.FAILED,#status.EXPIRED{background:#fde2e1}`;

/** The demo login page: the QR code of a login request, flipping to the outcome when the phone decides. */
export function demoLoginPage(input: { userId: string; requestId: string; qrPayload: string; expiresAt: string; base: string }): string {
  const { userId, requestId, qrPayload, expiresAt, base } = input;
  const query = `userId=${encodeURIComponent(userId)}`;
  const command = `npm run example:approve -- --url ${base} --client-id <demo client id> --client-secret <demo client secret> --secret <the device's secret> --device-id <the device's id> --payload '${qrPayload}'`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in with your phone (demo)</title><style>${STYLE}</style></head>
<body>
<h1>Log in as <code>${escape(userId)}</code> with your phone</h1>
<p>Scan the QR code with the organisation's app (or run the reference phone below). It expires at ${escape(expiresAt)}.</p>
<p><img id="qr" alt="QR code of the login request" width="256" height="256" src="/demo/login/${escape(requestId)}/qr?${escape(query)}"></p>
<p id="status" class="PENDING" data-request-id="${escape(requestId)}">Waiting for the phone…</p>
<p>QR payload:</p><pre id="payload">${escape(qrPayload)}</pre>
<p>Approve it with the reference phone (<code>examples/approver.mjs</code>):</p><pre>${escape(command)}</pre>
<script>
(async () => {
  const status = document.getElementById('status');
  const base = '/demo/login/${encodeURIComponent(requestId)}';
  const query = ${JSON.stringify(query)};
  for (;;) {
    let body;
    try {
      const r = await fetch(base + '/status?' + query);
      body = await r.json();
      if (!r.ok) throw new Error(body.message);
    } catch (e) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    if (body.status === 'PENDING') continue;
    status.className = body.status;
    if (body.status === 'APPROVED') {
      const r = await fetch(base + '/redeem?' + query, { method: 'POST' });
      status.textContent = r.ok ? 'Approved on the phone: you are logged in (device ' + body.deviceId + ')' : 'Approved, but this approval was already used';
    } else {
      status.textContent = body.message;
    }
    return;
  }
})();
</script>
</body></html>`;
}

/** The page for a user with no device yet: how to enrol one first. */
export function demoNoDevicePage(userId: string, base: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in with your phone (demo)</title><style>${STYLE}</style></head>
<body><h1><code>${escape(userId)}</code> has no active device yet</h1>
<p>Enrol one first (README, "Walk-through"): create a device for this user, scan its QR code with an authenticator app,
activate it with the first code; then reload this page. Swagger UI: <a href="${escape(base)}/docs">${escape(base)}/docs</a>.</p>
</body></html>`;
}
