// The API reference page: the OpenAPI document drawn as a list of operations and schemas, with
// a filter. Everything shown is escaped before it becomes markup.
"use strict";
const esc = s => String(s).replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const refName = r => r.slice(r.lastIndexOf('/') + 1);
// JSON with "$ref" turned into in-page links to the schema section.
const schemaHtml = s => esc(JSON.stringify(s, null, 2)).replace(
  /&quot;\$ref&quot;: &quot;#\/components\/schemas\/([^&]+)&quot;/g,
  (_, n) => `&quot;$ref&quot;: <a href="#schema-${n}">${n}</a>`);
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

function renderOps(doc) {
  let out = '';
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const m of METHODS) {
      const op = item[m]; if (!op) continue;
      const key = `${m} ${path} ${op.summary || ''} ${(op.tags || []).join(' ')}`.toLowerCase();
      let body = '';
      const params = [...(item.parameters || []), ...(op.parameters || [])];
      if (params.length) body += '<h4>Parameters</h4><div class="scroll" tabindex="0" role="region" aria-label="Parameters"><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th><th>description</th></tr>' +
        params.map(p => `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${p.required ? 'yes' : ''}</td>` +
          `<td><code>${schemaHtml(p.schema || {})}</code></td><td>${esc(p.description || '')}</td></tr>`).join('') + '</table></div>';
      for (const [ct, c] of Object.entries((op.requestBody || {}).content || {}))
        body += `<h4>Request body <code>${esc(ct)}</code></h4><pre tabindex="0">${schemaHtml(c.schema || {})}</pre>`;
      for (const [code, r] of Object.entries(op.responses || {})) {
        body += `<h4>${esc(code)} ${esc(r.description || '')}</h4>`;
        for (const [ct, c] of Object.entries(r.content || {}))
          body += `<pre tabindex="0">${esc(ct)}: ${schemaHtml(c.schema || {})}</pre>`;
      }
      out += `<details class="op" data-key="${esc(key)}"><summary><span class="m ${m}">${m}</span> <code>${esc(path)}</code> ` +
        `${esc(op.summary || '')}</summary><div class="body">${op.description ? `<p>${esc(op.description)}</p>` : ''}${body}</div></details>`;
    }
  }
  return out;
}
function renderSchemas(doc) {
  return Object.entries((doc.components || {}).schemas || {}).map(([n, s]) =>
    `<h3 id="schema-${esc(n)}">${esc(n)}</h3><pre tabindex="0">${schemaHtml(s)}</pre>`).join('');
}
if (typeof document !== 'undefined') {
  fetch('/api/openapi.json').then(r => r.json()).then(doc => {
    document.getElementById('title').textContent = `${doc.info.title} ${doc.info.version}`;
    document.getElementById('ops').innerHTML = renderOps(doc);
    document.getElementById('schemas').innerHTML = renderSchemas(doc);
    document.getElementById('filter').addEventListener('input', e => {
      const q = e.target.value.toLowerCase();
      for (const el of document.querySelectorAll('details.op')) el.hidden = !el.dataset.key.includes(q);
    });
  }).catch(e => { document.getElementById('ops').textContent = 'Failed to load openapi.json: ' + e; });
}
