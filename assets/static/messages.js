// Live parts of the messages page: sending without reload, the event stream (with a 30 s polling
// fallback), the unread badge, Enter to send. The page works without this script; it only adds.
const area = document.querySelector('meta[name=area]').content;
const csrf = document.querySelector('meta[name=csrf-token]').content;
const api = `/api/v1/${area}/messages`;
const list = document.getElementById('conversations');
const thread = document.getElementById('messages');
const composer = document.getElementById('composer');
const badge = document.getElementById('unread-badge');
const conversationId = thread ? Number(thread.dataset.conversation) : null;

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text; // text only: never HTML
  return node;
}

// Plain text with http(s) links made clickable, safely.
function linkify(text) {
  const fragment = document.createDocumentFragment();
  const pattern = /https?:\/\/[^\s<>"']+/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    fragment.append(text.slice(last, match.index));
    fragment.append(el('a', { href: match[0], target: '_blank', rel: 'noopener noreferrer nofollow' }, match[0]));
    last = match.index + match[0].length;
  }
  fragment.append(text.slice(last));
  return fragment;
}

function renderMessage(m) {
  const item = el('li', { class: `message${m.is_system_message ? ' system' : ''}`, 'data-id': m.id });
  if (m.is_system_message) {
    item.append(el('span', {}, m.content));
    return item;
  }
  const meta = el('div', { class: 'meta' });
  meta.append(el('strong', {}, m.sender_name), ' ', el('time', { datetime: m.created_at }, new Date(m.created_at).toLocaleString()));
  item.append(meta);
  if (m.is_deleted) {
    item.append(el('p', { class: 'muted' }, 'Message deleted'));
  } else {
    const text = el('p', { class: 'text' });
    text.append(linkify(m.content));
    item.append(text);
  }
  for (const a of m.attachments) {
    if (a.thumbnail_url) {
      const link = el('a', { class: 'thumb', href: a.download_url });
      link.append(el('img', { src: a.thumbnail_url, alt: a.original_filename }));
      item.append(link);
    } else {
      item.append(el('a', { class: 'chip', href: a.download_url }, a.original_filename));
    }
  }
  return item;
}

async function call(path, options = {}) {
  const response = await fetch(path, {
    credentials: 'same-origin',
    ...options,
    headers: { 'X-CSRF-Token': csrf, ...(options.headers || {}) },
  });
  if (!response.ok) {
    let message = `Request failed (${response.status})`;
    try { message = (await response.json()).error.message; } catch (_) { /* keep the generic text */ }
    throw new Error(message);
  }
  return response.status === 204 ? null : response.json();
}

async function refreshBadge() {
  const { total_unread } = await call(`${api}/unread-count`);
  if (badge) {
    badge.textContent = total_unread;
    badge.hidden = total_unread === 0;
  }
}

async function refreshThread() {
  if (!conversationId) return;
  const detail = await call(`${api}/${conversationId}?limit=50`);
  const seen = new Set([...thread.children].map((li) => li.dataset.id));
  for (const m of detail.messages) {
    if (!seen.has(String(m.id))) thread.append(renderMessage(m));
  }
  thread.scrollTop = thread.scrollHeight;
  await call(`${api}/${conversationId}/read`, { method: 'PUT' });
}

async function refreshList() {
  const data = await call(`${api}?limit=50`);
  list.replaceChildren(...data.conversations.map((c) => {
    const item = el('li', { class: `conversation${c.unread_count ? ' unread' : ''}${c.id === conversationId ? ' active' : ''}`, 'data-id': c.id });
    const link = el('a', { href: `${location.pathname.replace(/\/\d+$/, '')}/${c.id}` });
    link.append(el('span', { class: 'subject' }, c.subject));
    if (c.unread_count) link.append(el('span', { class: 'count' }, String(c.unread_count)));
    link.append(el('span', { class: 'other' }, c.other_participant ? c.other_participant.name : ''));
    link.append(el('span', { class: 'preview' }, c.last_message_preview || ''));
    item.append(link);
    return item;
  }));
}

async function refreshAll() {
  await Promise.all([refreshThread(), refreshList()]);
  await refreshBadge();
}

if (composer) {
  const textarea = composer.querySelector('textarea');
  const files = composer.querySelector('input[type=file]');
  const error = document.getElementById('composer-error');
  const draftKey = `parley-draft-${area}-${conversationId}`;
  textarea.value = sessionStorage.getItem(draftKey) || '';
  textarea.addEventListener('input', () => {
    sessionStorage.setItem(draftKey, textarea.value);
    textarea.style.height = 'auto';
    textarea.style.height = `${textarea.scrollHeight}px`;
  });
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  composer.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const body = new FormData();
    body.append('content', textarea.value);
    for (const file of files.files) body.append('files', file);
    try {
      const message = await call(`${api}/${conversationId}/messages`, { method: 'POST', body });
      thread.append(renderMessage(message));
      thread.scrollTop = thread.scrollHeight;
      textarea.value = '';
      files.value = '';
      sessionStorage.removeItem(draftKey);
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
}

document.getElementById('logout')?.addEventListener('click', async () => {
  await call(`/api/v1/${area}/auth/logout`, { method: 'POST' }).catch(() => {});
  location.href = `/${area}/login`;
});

// Live updates: the event stream, or polling every 30 s while it is down.
let poller = null;
function startPolling() {
  if (!poller) poller = setInterval(() => refreshAll().catch(() => {}), 30000);
}
function connect() {
  const source = new EventSource(`${api}/stream`);
  source.onopen = () => { clearInterval(poller); poller = null; };
  for (const kind of ['message_sent', 'message_deleted', 'conversation_created', 'conversation_read', 'conversation_closed', 'conversation_reopened', 'resync']) {
    source.addEventListener(kind, () => refreshAll().catch(() => {}));
  }
  source.addEventListener('end', () => { source.close(); location.href = `/${area}/login`; });
  source.onerror = () => { startPolling(); };
}
// Server-rendered messages: clickable links and local times, the same as live ones.
for (const text of document.querySelectorAll('#messages .text')) {
  const plain = text.textContent;
  text.replaceChildren(linkify(plain));
}
for (const time of document.querySelectorAll('#messages time')) {
  time.textContent = new Date(time.getAttribute('datetime')).toLocaleString();
}

connect();
if (thread) {
  thread.scrollTop = thread.scrollHeight;
  refreshBadge().catch(() => {});
}
