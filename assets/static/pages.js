// Shared behaviour of the admin and vendor pages: forms that talk to the JSON API, row buttons,
// template previews in a sandboxed frame, sign-out. Pages render fully on the server without it.
import { guardRestoredPages } from './restore.js';
import { errorText, t } from './strings.js';

const area = document.querySelector('meta[name=area]').content;
const csrf = document.querySelector('meta[name=csrf-token]').content;

async function call(url, method, body) {
  const response = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrf, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) {
    const answer = await response.json().catch(() => null);
    throw new Error(errorText(response.status, answer));
  }
  return response.status === 204 ? null : response.json();
}

// Form fields become JSON: empty optional fields are left out, checkboxes are booleans, lists
// (one per line) become arrays.
function values(form) {
  const body = {};
  for (const field of form.elements) {
    if (!field.name) continue;
    if (field.type === 'checkbox' && field.dataset.many !== undefined) {
      // Several boxes of one name: the list of the checked ones' values.
      body[field.name] ||= [];
      if (field.checked) body[field.name].push(field.value);
    } else if (field.type === 'checkbox') body[field.name] = field.checked;
    else if (field.dataset.list !== undefined || field.name.endsWith('variables')) body[field.name] = field.value.split(/[\s,]+/).filter(Boolean);
    else if (field.type === 'number') { if (field.value !== '') body[field.name] = Number(field.value); }
    else if (field.dataset.json !== undefined) body[field.name] = JSON.parse(field.value);
    else if (field.name.includes('.')) {
      // "names.en": a field of an object.
      const [outer, inner] = field.name.split('.', 2);
      body[outer] ||= {};
      if (field.value !== '') body[outer][inner] = field.value;
    } else if (field.value !== '') body[field.name] = field.value;
  }
  return body;
}

for (const form of document.querySelectorAll('form.api-form')) {
  const error = form.querySelector('.form-error');
  const ok = form.querySelector('.form-ok');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    ok.hidden = true;
    try {
      const saved = await call(form.dataset.url, form.dataset.method, values(form));
      ok.hidden = false;
      const shown = form.querySelector('.key-shown');
      if (shown && saved && saved[form.dataset.show]) {
        // A secret shown once: it stays on the page until the reader leaves it.
        shown.querySelector('output').textContent = saved[form.dataset.show];
        shown.hidden = false;
        ok.hidden = true;
      } else if (form.dataset.method === 'POST' && saved && saved.id && form.dataset.url.endsWith('templates')) {
        location.href = `${location.pathname}/${saved.id}`;
      } else {
        setTimeout(() => location.reload(), 600);
      }
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
  const preview = form.querySelector('[data-preview]');
  preview?.addEventListener('click', async () => {
    error.hidden = true;
    try {
      const body = values(form);
      const draft = { code: body.code || form.dataset.code, language: body.language || form.dataset.language, subject: body.subject, body_html: body.body_html, body_text: body.body_text };
      const rendered = await call(preview.dataset.preview, 'POST', draft);
      document.getElementById('preview-subject').textContent = t('preview-subject', { subject: rendered.subject, layer: t(`layer-${rendered.layer}`), language: rendered.language });
      // The frame is sandboxed without scripts or our origin: a template's own markup cannot act.
      document.getElementById('preview').srcdoc = rendered.body_html;
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
}

document.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-post]');
  if (!button || button.closest('form.api-form')?.contains(button) && button.type === 'submit') return;
  button.disabled = true;
  try {
    const body = button.dataset.body ? JSON.parse(button.dataset.body) : undefined;
    const answer = await call(button.dataset.post, button.dataset.method || 'POST', body);
    if (answer && answer.verification_error) alert(t('not-verified', { problem: answer.verification_error }));
    location.reload();
  } catch (e) {
    alert(e.message);
    button.disabled = false;
  }
});


guardRestoredPages(area);
