"""The API's documentation page, served by the app itself: no CDN, no outside asset.

FastAPI's Swagger UI loads its script and styles from a CDN, which an offline machine cannot
reach (and which would tell a third party who reads the docs). This page reads the app's own
`openapi.json` and lists each route with its parameters, body and replies; the schema itself
is the reference, for tools that generate clients.
"""

DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Document assistant API</title>
<style>
body{font:15px system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#18181b}
code,pre{font:13px ui-monospace,monospace;background:#f4f4f5;border-radius:4px}
pre{padding:.6em;overflow:auto}
.op{border:1px solid #d4d4d8;border-radius:6px;margin:1em 0;padding:.4em 1em}
.method{font-weight:700;text-transform:uppercase;margin-right:.5em}
</style></head>
<body><h1 id="title">Document assistant API</h1>
<p>The machine-readable schema: <a href="openapi.json">openapi.json</a> (OpenAPI 3).</p>
<div id="description"></div><div id="routes">Loading…</div>
<script src="docs.js"></script></body></html>
"""

DOCS_JS = r"""
(async () => {
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };
  const routes = document.getElementById("routes");
  let spec;
  try { spec = await (await fetch("openapi.json", {credentials: "same-origin"})).json(); }
  catch (err) { routes.textContent = "Could not load openapi.json: " + err; return; }
  const base = (spec.servers && spec.servers[0] && spec.servers[0].url) || "";
  document.getElementById("title").textContent = spec.info.title + " " + spec.info.version;
  document.getElementById("description").textContent = spec.info.description || "";
  const resolve = (schema) => {
    if (schema && schema.$ref) return resolve(spec.components.schemas[schema.$ref.split("/").pop()]);
    return schema;
  };
  routes.textContent = "";
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const box = el("section", null, "op");
      const head = el("h2");
      head.append(el("span", method, "method"), el("code", base + path));
      box.append(head, el("p", op.summary || ""));
      for (const p of op.parameters || []) box.append(el("p", `${p.in} parameter ${p.name}${p.required ? " (required)" : ""}`));
      const body = op.requestBody && op.requestBody.content;
      if (body) for (const [type, media] of Object.entries(body)) {
        box.append(el("p", "Body (" + type + "):"), el("pre", JSON.stringify(resolve(media.schema), null, 2)));
      }
      const replies = el("ul");
      for (const [code, reply] of Object.entries(op.responses || {})) {
        const media = reply.content && Object.values(reply.content)[0];
        const schema = media && media.schema ? resolve(media.schema) : null;
        replies.append(el("li", code + " " + (reply.description || "") + (schema && schema.title ? " — " + schema.title : "")));
      }
      box.append(replies);
      routes.append(box);
    }
  }
})();
"""
