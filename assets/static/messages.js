// Live parts of the messages page: sending without reload, the event stream (with a 30 s polling
// fallback), the unread badge, Enter to send. The page works without this script; it only adds.
import { guardRestoredPages } from './restore.js';
import { errorText, lang, number, relativeDay, t } from './strings.js';

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

// A message's time of day (the day separators carry the date); the full time on hover.
function clockTime(iso) {
  const at = new Date(iso);
  return el('time', { datetime: iso, title: at.toLocaleString(lang) }, at.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' }));
}

// "812 B", "14 KB", "3.2 MB" (3,2 MB in German), as the server writes them.
function filesize(bytes) {
  if (bytes < 1000) return `${number(bytes)} B`;
  if (bytes < 1000000) return `${number(Math.round(bytes / 1000))} KB`;
  return `${number(Math.round(bytes / 100000) / 10)} MB`;
}

function renderMessage(m, mine = false) {
  const item = el('li', { class: `message${m.is_system_message ? ' system' : ''}${mine && !m.is_system_message ? ' mine' : ''}`, 'data-id': m.id });
  if (m.is_system_message) {
    item.append(el('span', {}, m.system_event ? t(`system-${m.system_event}`, { name: m.sender_name }) : m.content));
    return item;
  }
  if (m.internal) item.classList.add('internal');
  const meta = el('div', { class: 'meta' });
  if (m.internal) meta.append(el('span', { class: 'flag note' }, t('internal-note')), ' ');
  meta.append(el('strong', {}, m.sender_name), ' ', clockTime(m.created_at));
  item.append(meta);
  if (m.is_deleted) {
    item.append(el('p', { class: 'muted' }, t('message-deleted')));
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
      const chip = el('a', { class: 'chip', href: a.download_url, title: a.original_filename });
      chip.append(el('span', { class: 'chip-name' }, a.original_filename), ' ', el('span', { class: 'chip-size' }, filesize(a.file_size)));
      item.append(chip);
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
    const body = await response.json().catch(() => null);
    throw new Error(errorText(response.status, body));
  }
  return response.status === 204 ? null : response.json();
}

// Sends a form with files through XMLHttpRequest, for its upload progress.
const progress = document.getElementById('upload-progress');
function upload(url, body) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', url);
    request.setRequestHeader('X-CSRF-Token', csrf);
    request.responseType = 'json';
    if (progress) {
      progress.value = 0;
      progress.hidden = false;
      request.upload.onprogress = (e) => { if (e.lengthComputable) progress.value = (100 * e.loaded) / e.total; };
    }
    request.onload = () => {
      if (progress) progress.hidden = true;
      if (request.status >= 200 && request.status < 300) resolve(request.response);
      else reject(new Error(errorText(request.status, request.response)));
    };
    request.onerror = () => {
      if (progress) progress.hidden = true;
      reject(new Error(t('not-sent')));
    };
    request.send(body);
  });
}

async function refreshBadge() {
  const { total_unread } = await call(`${api}/unread-count`);
  if (badge) {
    badge.textContent = total_unread;
    badge.hidden = total_unread === 0;
    // The link's name holds its visible text ("Messages 3") and says what the number is.
    badge.closest('a')?.setAttribute('aria-label', t('badge-label', { count: total_unread }));
  }
}

// The open thread's closed state, as the other side changes it: the note shows, the reply box
// goes (or comes back on reopening, with a reload for the server-rendered form).
function showClosed(closed) {
  const note = document.getElementById('closed-note');
  if (note) note.hidden = !closed;
  if (closed && composer) composer.hidden = true;
  if (!closed && composer) composer.hidden = false;
  if (!closed && !composer && thread) location.reload();
}

async function refreshThread() {
  if (!conversationId) return;
  const detail = await call(`${api}/${conversationId}?limit=50`);
  showClosed(detail.is_closed);
  const seen = new Set([...thread.children].map((li) => li.dataset.id));
  for (const m of detail.messages) {
    if (!seen.has(String(m.id))) thread.append(renderMessage(m));
  }
  markDays();
  markSeen(detail.participants.filter((p) => p.participant_type !== thread.dataset.meType).map((p) => p.last_read_at));
  thread.scrollTop = thread.scrollHeight;
  // Only what is unread is marked read: a read of nothing would be one more event for everyone.
  if (detail.unread_count > 0) await call(`${api}/${conversationId}/read`, { method: 'PUT' });
}

// A time as people say it: "14:05" today, "Yesterday", "Mon", "3 Dec", "3 Dec 2025"; the
// exact local time on hover.
function when(iso) {
  const at = new Date(iso);
  const now = new Date();
  const days = Math.round((new Date(now.toDateString()) - new Date(at.toDateString())) / 86400000);
  if (days === 0) return at.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
  if (days === 1) return relativeDay(1);
  if (days < 7) return at.toLocaleDateString(lang, { weekday: 'short' });
  if (at.getFullYear() === now.getFullYear()) return at.toLocaleDateString(lang, { day: 'numeric', month: 'short' });
  return at.toLocaleDateString(lang, { day: 'numeric', month: 'short', year: 'numeric' });
}
function timeEl(iso, className) {
  const time = el('time', { class: className, datetime: iso, title: new Date(iso).toLocaleString(lang) }, when(iso));
  return time;
}

// Messages are grouped by day, in the reader's own time zone: a separator ("Today",
// "Yesterday", "Monday 30 November") before the first message of each day. Called whenever
// messages are added, before or after.
function markDays() {
  if (!thread) return;
  for (const old of thread.querySelectorAll('li.day')) old.remove();
  const today = new Date().toDateString();
  const yesterday = new Date(Date.now() - 86400000).toDateString();
  let last = null;
  for (const item of [...thread.children]) {
    const iso = item.querySelector('time')?.getAttribute('datetime');
    if (!iso) continue;
    const at = new Date(iso);
    const day = at.toDateString();
    if (day === last) continue;
    last = day;
    const label = day === today ? relativeDay(0) : day === yesterday ? relativeDay(1)
      : at.toLocaleDateString(lang, { weekday: 'long', day: 'numeric', month: 'long', year: at.getFullYear() === new Date().getFullYear() ? undefined : 'numeric' });
    item.before(el('li', { class: 'day' }, label));
  }
}

// "Seen" under my last message once someone on the other side has read past it.
function markSeen(othersReadAt) {
  if (!thread) return;
  thread.querySelector('.seen')?.remove();
  const mine = [...thread.querySelectorAll('li.message.mine')].pop();
  const sent = mine?.querySelector('time')?.getAttribute('datetime');
  if (!sent) return;
  const read = Math.max(0, ...othersReadAt.filter(Boolean).map((t) => new Date(t).getTime()));
  if (read >= new Date(sent).getTime()) mine.append(el('span', { class: 'seen' }, t('seen')));
}

// The list as the page was asked for: the same search and filters as its address.
function listQuery() {
  const page = new URLSearchParams(location.search);
  const query = new URLSearchParams({ limit: '50' });
  if (page.get('search')) query.set('search', page.get('search'));
  if (page.get('type')) query.set('conversation_type', page.get('type'));
  const status = page.get('status');
  if (status === 'open' || status === 'closed') query.set('is_closed', String(status === 'closed'));
  if (status === 'waiting') query.set('waiting', 'store');
  if (status === 'overdue') query.set('overdue', 'true');
  for (const [from, to] of [['topic', 'topic_id'], ['assignee', 'assignee'], ['context_type', 'context_type'], ['context_id', 'context_id']]) {
    if (page.get(from)) query.set(to, page.get(from));
  }
  return query;
}

function renderRow(c) {
  const item = el('li', { class: `conversation${c.unread_count ? ' unread' : ''}${c.id === conversationId ? ' active' : ''}`, 'data-id': c.id });
  const link = el('a', { href: `${location.pathname.replace(/\/\d+$/, '')}/${c.id}${location.search}` });
  link.append(el('span', { class: 'subject' }, c.subject));
  if (c.last_message_at) link.append(timeEl(c.last_message_at, 'when'));
  const other = el('span', { class: 'other' });
  if (c.other_participant) other.append(el('span', { class: 'party' }, t(`party-${c.other_participant.type}`)), ' ', c.other_participant.name);
  if (c.is_closed) other.append(' ', el('span', { class: 'closed' }, t('closed')));
  if (c.escalated) other.append(' ', el('span', { class: 'flag escalated' }, t('escalated')));
  if (area === 'vendor' && c.waiting_since?.party === 'store' && !c.is_closed) other.append(' ', el('span', { class: 'flag waiting' }, t('waiting')));
  link.append(other);
  if (c.unread_count) link.append(el('span', { class: 'count', 'aria-label': t('unread', { count: c.unread_count }) }, String(c.unread_count)));
  const preview = c.last_message_event ? t(`system-preview-${c.last_message_event}`) : c.last_message_preview;
  link.append(el('span', { class: 'preview' }, preview || ''));
  item.append(link);
  return item;
}

async function refreshList() {
  const data = await call(`${api}?${listQuery()}`);
  const rows = data.conversations.map(renderRow);
  if (rows.length === 0) rows.push(el('li', { class: 'empty' }, list.dataset.emptySearch));
  list.replaceChildren(...rows);
}

// Events come in bursts (a message is also a read, an unread change, a list change): the page
// refreshes once per burst, never two refreshes at a time, and once more if events came meanwhile.
const stale = { thread: false, list: false };
let refreshTimer = null;
let refreshing = false;
function refreshSoon({ thread: threadToo = false } = {}) {
  stale.list = true;
  stale.thread ||= threadToo;
  if (!refreshTimer && !refreshing) refreshTimer = setTimeout(runRefresh, 150);
}
async function runRefresh() {
  refreshTimer = null;
  refreshing = true;
  const todo = { ...stale };
  stale.thread = stale.list = false;
  try {
    await Promise.all([todo.thread ? refreshThread() : null, todo.list ? refreshList() : null]);
    await refreshBadge();
  } catch (_) { /* the next event or the poller tries again */ }
  refreshing = false;
  if (stale.thread || stale.list) refreshTimer = setTimeout(runRefresh, 150);
}
const refreshAll = () => refreshSoon({ thread: true });

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
  // The chosen files as chips, before they are sent.
  const chosen = document.getElementById('files-chosen');
  const showChosen = () => {
    chosen.replaceChildren(...[...files.files].map((file) => {
      const chip = el('li', { class: 'chip' });
      chip.append(el('span', { class: 'chip-name' }, file.name), ' ', el('span', { class: 'chip-size' }, filesize(file.size)));
      return chip;
    }));
    chosen.hidden = files.files.length === 0;
  };
  files.addEventListener('change', showChosen);
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
    const internal = composer.elements.internal;
    if (internal?.checked) body.append('internal', 'true');
    for (const file of files.files) body.append('files', file);
    try {
      const message = await upload(`${api}/${conversationId}/messages`, body);
      thread.append(renderMessage(message, true));
      markDays();
      markSeen([]);
      thread.scrollTop = thread.scrollHeight;
      textarea.value = '';
      files.value = '';
      showChosen();
      sessionStorage.removeItem(draftKey);
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
}

// A saved reply, filled in for this conversation, goes into the composer where the cursor is.
const savedReply = document.getElementById('saved-reply');
savedReply?.addEventListener('change', async () => {
  if (!savedReply.value) return;
  const textarea = composer.querySelector('textarea');
  const error = document.getElementById('composer-error');
  try {
    const reply = await call(`/api/v1/${area}/saved-replies/${savedReply.value}/render?conversation_id=${conversationId}`);
    const at = textarea.selectionStart ?? textarea.value.length;
    textarea.value = textarea.value.slice(0, at) + reply.text + textarea.value.slice(textarea.selectionEnd ?? at);
    textarea.dispatchEvent(new Event('input'));
    textarea.focus();
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  }
  savedReply.value = '';
});

// The thread's topic and assignee change as soon as they are chosen.
for (const select of document.querySelectorAll('#thread-meta select[data-put]')) {
  select.addEventListener('change', async () => {
    const id = select.closest('#thread-meta').dataset.conversation;
    try {
      await call(`${api}/${id}/${select.dataset.put}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ [select.dataset.field]: select.value ? Number(select.value) : null }),
      });
      if (select.dataset.put === 'assignee') location.reload();
    } catch (e) {
      alert(e.message);
    }
  });
}

// A filter applies as soon as it is chosen (Enter applies the search), so the Filter button,
// which pages without scripts need, gives its room to the selects.
const filters = document.querySelector('.inbox .filters');
if (filters) {
  for (const select of filters.querySelectorAll('select')) select.addEventListener('change', () => filters.requestSubmit());
  filters.querySelector('button[type=submit]').hidden = true;
}


// Live updates: the event stream, or polling every 30 s while it is down. A dropped stream is
// retried after 2 s, then 4, 8 … up to a minute (with jitter, so a restarted server is not hit by
// every page at once) instead of the browser's fixed few seconds forever, and the page says so.
const liveStatus = document.getElementById('live-status');
let poller = null;
function startPolling() {
  if (!poller) poller = setInterval(refreshAll, 30000);
}
function stopPolling() {
  clearInterval(poller);
  poller = null;
}
let source = null;
let retry = null;
let retryDelay = 2000;
// The last event seen: a new stream resumes after it, and the server replays what was missed (or
// says `resync` when that is too much to replay).
let lastEventId = null;
function connect() {
  retry = null;
  source = new EventSource(lastEventId === null ? `${api}/stream` : `${api}/stream?last_event_id=${lastEventId}`);
  source.onopen = () => {
    stopPolling();
    if (liveStatus && !liveStatus.hidden) {
      liveStatus.hidden = true;
      // Back after a gap with no event to resume after: whatever happened is fetched once.
      if (lastEventId === null) refreshAll();
    }
    retryDelay = 2000;
  };
  const seen = (event) => {
    if (event.lastEventId) lastEventId = event.lastEventId;
  };
  for (const kind of ['message_sent', 'message_deleted', 'conversation_created', 'conversation_closed', 'conversation_reopened', 'participant_added']) {
    source.addEventListener(kind, (event) => {
      seen(event);
      const changed = JSON.parse(event.data || '{}').conversation_id;
      refreshSoon({ thread: changed === conversationId });
    });
  }
  // Whether the platform takes part changes the open thread's banner and composer: reload it.
  for (const kind of ['conversation_escalated', 'conversation_resolved']) {
    source.addEventListener(kind, (event) => {
      seen(event);
      if (JSON.parse(event.data || '{}').conversation_id === conversationId) location.reload();
      else refreshSoon();
    });
  }
  // A read changes unread counts, and the thread only when the other side read it ("Seen").
  source.addEventListener('conversation_read', (event) => {
    seen(event);
    const read = JSON.parse(event.data || '{}');
    refreshSoon({ thread: read.conversation_id === conversationId && read.actor?.type !== thread?.dataset.meType });
  });
  source.addEventListener('resync', refreshAll);
  source.addEventListener('end', () => { source.close(); location.href = `/${area}/login`; });
  source.onerror = () => {
    source.close();
    startPolling();
    if (liveStatus) {
      liveStatus.textContent = t('offline', { seconds: Math.round(retryDelay / 1000) });
      liveStatus.hidden = false;
    }
    retry = setTimeout(connect, retryDelay * (0.8 + Math.random() * 0.4));
    retryDelay = Math.min(retryDelay * 2, 60000);
  };
}
function disconnect() {
  source?.close();
  clearTimeout(retry);
  retry = null;
  stopPolling();
}
// A page kept in the back/forward cache must not hold its stream open (browsers allow six
// connections per server); it reconnects, and catches up, when it is shown again.
window.addEventListener('pagehide', disconnect);
guardRestoredPages(area, () => { connect(); refreshAll(); });
// Server-rendered messages: clickable links and local times, the same as live ones.
for (const text of document.querySelectorAll('#messages .text')) {
  const plain = text.textContent;
  text.replaceChildren(linkify(plain));
}
for (const time of document.querySelectorAll('#messages time')) {
  time.replaceWith(clockTime(time.getAttribute('datetime')));
}
markDays();
markSeen((thread?.dataset.othersRead || '').split(' '));
for (const time of document.querySelectorAll('#conversations time')) {
  const iso = time.getAttribute('datetime');
  time.textContent = when(iso);
  time.title = new Date(iso).toLocaleString();
}

// Older messages load when the thread is scrolled to the top (the API's `before` cursor).
let loadingOlder = false;
thread?.addEventListener('scroll', async () => {
  if (thread.scrollTop > 40 || loadingOlder || thread.dataset.hasMore !== 'true') return;
  loadingOlder = true;
  try {
    const oldest = thread.querySelector('li[data-id]')?.dataset.id;
    const page = await call(`${api}/${conversationId}?limit=50&before=${oldest}`);
    const height = thread.scrollHeight;
    thread.prepend(...page.messages.map(renderMessage));
    markDays();
    thread.scrollTop = thread.scrollHeight - height;
    thread.dataset.hasMore = String(page.has_more);
  } finally {
    loadingOlder = false;
  }
});

connect();
if (thread) {
  thread.scrollTop = thread.scrollHeight;
  // Opening a thread reads it (the page itself has no side effects).
  call(`${api}/${conversationId}/read`, { method: 'PUT' })
    .then(refreshBadge)
    .catch(() => {});
}

// Thread actions: close/reopen, mute, email preference, delete own message.
const actions = document.getElementById('thread-actions');
actions?.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  // Close and reopen are forms for pages without scripts; here they go through the API.
  event.preventDefault();
  const id = actions.dataset.conversation;
  try {
    if (['close', 'reopen', 'resolve', 'no-reply-needed'].includes(button.dataset.action)) {
      await call(`${api}/${id}/${button.dataset.action}`, { method: 'POST' });
      location.reload();
    } else {
      const pressed = button.getAttribute('aria-pressed') !== 'true';
      const body = button.dataset.action === 'mute' ? { muted: pressed } : { email_notifications: !pressed };
      await call(`${api}/${id}/preferences`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      button.setAttribute('aria-pressed', String(pressed));
    }
  } catch (e) {
    alert(e.message);
  }
});
thread?.addEventListener('click', async (event) => {
  const button = event.target.closest('button.delete');
  if (!button || !confirm(t('confirm-delete'))) return;
  await call(`${api}/${conversationId}/messages/${button.dataset.message}`, { method: 'DELETE' }).catch((e) => alert(e.message));
  location.reload();
});

// Compose: pick a channel, search a recipient, start the conversation.
const dialog = document.getElementById('compose');
if (dialog) {
  const form = document.getElementById('compose-form');
  const options = document.getElementById('recipient-options');
  const search = form.elements.recipient_search;
  const error = document.getElementById('compose-error');
  let found = [];
  // Lookups go out as the person types and may answer out of order: only the latest one's
  // answer may fill the suggestions.
  let lookups = 0;
  const recipientType = () => form.elements.conversation_type.selectedOptions[0].dataset.recipient;
  // Writing to a whole team (a customer to their store, a store to the platform): nobody to pick.
  const toTeam = () => recipientType() === 'team';
  const showRecipient = () => {
    document.getElementById('compose-recipient').hidden = toTeam();
    document.getElementById('compose-team').hidden = !toTeam();
    search.required = !toTeam();
  };
  showRecipient();
  async function lookup() {
    if (toTeam()) return;
    // A picked option reads "Name <email>": search by the address then.
    const picked = search.value.match(/<([^>]+)>$/);
    const term = picked ? picked[1] : search.value;
    const query = new URLSearchParams({ recipient_type: recipientType(), search: term, limit: '20' });
    const asked = ++lookups;
    const answer = (await call(`${api}/recipients?${query}`)).recipients;
    if (asked !== lookups) return;
    found = answer;
    options.replaceChildren(...found.map((r) => el('option', { value: `${r.name} <${r.email}>` }, r.store_name)));
  }
  document.getElementById('compose-open').addEventListener('click', () => { dialog.showModal(); lookup().catch(() => {}); });
  document.getElementById('compose-cancel').addEventListener('click', () => dialog.close());
  search.addEventListener('input', () => lookup().catch(() => {}));
  form.elements.conversation_type.addEventListener('change', () => { search.value = ''; showRecipient(); lookup().catch(() => {}); });
  // What the conversation is about, when a kind and an id are given.
  const about = () => {
    const type = form.elements.context_type.value;
    const id = form.elements.context_id.value.trim();
    if (!type || !id) return null;
    return { type, id, label: form.elements.context_label.value.trim() || null };
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (form.elements.context_type.value && !form.elements.context_id.value.trim()) {
      error.textContent = t('about-needs-id');
      error.hidden = false;
      return;
    }
    await lookup().catch(() => {});
    const recipient = toTeam() ? null : found.find((r) => `${r.name} <${r.email}>` === search.value);
    if (!recipient && !toTeam()) {
      error.textContent = t('choose-recipient');
      error.hidden = false;
      return;
    }
    try {
      const created = await call(api, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          conversation_type: form.elements.conversation_type.value,
          subject: form.elements.subject.value,
          recipient_type: recipient ? recipientType() : undefined,
          recipient_id: recipient ? recipient.id : undefined,
          initial_message: form.elements.initial_message.value || null,
          context: about(),
          topic_id: form.elements.topic_id?.value ? Number(form.elements.topic_id.value) : undefined,
        }),
      });
      location.href = `${location.pathname.replace(/\/\d+$/, '')}/${created.id}`;
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
}
