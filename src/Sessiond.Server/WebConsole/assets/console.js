// The Sessiond web console: one module, no build step, no dependencies.
// Data reaches the page only through text nodes and attributes, never through innerHTML.

const TOKEN_KEY = 'sessiond.token';
const ACTIVE = new Set(['running', 'waiting']);

const byId = (id) => document.getElementById(id);
const enc = encodeURIComponent;
const json = (value) => JSON.stringify(value ?? {}, null, 2);

/** Builds an element; children that are strings become text nodes, so nothing is parsed as markup. */
function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP: every call carries the bearer token when one is set; errors are problem+json with a code and a title.

class ApiError extends Error {
  constructor(status, code, title) {
    super(title);
    this.title = title;
    this.status = status;
    this.code = code;
  }
}

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function problemOf(response) {
  let code = `http_${response.status}`;
  let title = response.statusText || `HTTP ${response.status}`;
  try {
    const body = await response.json();
    if (body && typeof body === 'object') {
      code = body.code ?? code;
      title = body.title ?? body.detail ?? body.message ?? title;
    }
  } catch {
    // Not JSON: the status line is all there is.
  }
  return new ApiError(response.status, code, title);
}

async function api(method, path, body, extraHeaders = {}) {
  const headers = { Accept: 'application/json', ...authHeaders(), ...extraHeaders };
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await problemOf(response);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------------------------------------------------------
// Server-Sent Events over fetch. EventSource cannot send a bearer token, so streams are read here: one parser, and
// a reconnect loop that resumes with Last-Event-ID exactly as EventSource would.

function wait(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/** Reads frames from an SSE body until it ends; true when the server said `event: end`. */
async function readFrames(body, dispatch) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let frame = { id: null, event: 'message', data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += value;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      if (line === '') {
        if (frame.data.length > 0) {
          const complete = { id: frame.id, event: frame.event, data: frame.data.join('\n') };
          dispatch(complete);
          if (complete.event === 'end') {
            await reader.cancel();
            return true;
          }
        }
        frame = { id: null, event: 'message', data: [] };
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? '' : line.slice(colon + 1);
        if (text.startsWith(' ')) text = text.slice(1);
        if (field === 'id') frame.id = text;
        else if (field === 'event') frame.event = text;
        else if (field === 'data') frame.data.push(text);
      }
    }
  }
}

/**
 * Follows an SSE endpoint until closed. A client error (4xx but 429) is final and goes to onFatal; anything else
 * reconnects with backoff, resuming after the last frame id seen.
 */
function follow(path, { onFrame, onState = () => {}, onFatal }) {
  const controller = new AbortController();
  let lastEventId = null;
  let attempt = 0;
  (async () => {
    while (!controller.signal.aborted) {
      try {
        // Naming problem+json too makes a refusal before the stream starts come back as problem+json, not text.
        const headers = { Accept: 'text/event-stream, application/problem+json', ...authHeaders() };
        if (lastEventId !== null) headers['Last-Event-ID'] = lastEventId;
        const response = await fetch(path, { headers, signal: controller.signal, cache: 'no-store' });
        if (!response.ok) {
          const error = await problemOf(response);
          if (response.status < 500 && response.status !== 429) {
            onState('stopped');
            onFatal(error);
            return;
          }
          throw error;
        }
        attempt = 0;
        onState('live');
        const ended = await readFrames(response.body, (frame) => {
          if (frame.id !== null) lastEventId = frame.id;
          onFrame(frame);
        });
        if (ended) {
          onState('ended');
          return;
        }
      } catch {
        if (controller.signal.aborted) return;
      }
      onState('reconnecting');
      attempt += 1;
      await wait(Math.min(10_000, 250 * 2 ** Math.min(attempt, 6)), controller.signal);
    }
  })();
  return { close: () => controller.abort() };
}

// ---------------------------------------------------------------------------------------------------------------
// State

const state = {
  app: '',
  user: '',
  sessions: new Map(), // id -> {id, title, status, updatedAt, starred}
  rows: new Map(), // id -> <li> of the session list
  feed: null,
  current: null, // the open session: {id, title, status, starred, lastSeq, live, stream, pendingVersion, followupKey}
};

const ui = {
  appInput: byId('app-input'),
  userInput: byId('user-input'),
  appOptions: byId('app-options'),
  tokenInput: byId('token-input'),
  errorBanner: byId('error-banner'),
  errorText: byId('error-text'),
  feedState: byId('feed-state'),
  sessionList: byId('session-list'),
  sessionListEmpty: byId('session-list-empty'),
  placeholder: byId('session-placeholder'),
  panel: byId('session-panel'),
  title: byId('session-title'),
  status: byId('session-status'),
  notice: byId('session-notice'),
  starButton: byId('star-button'),
  cancelButton: byId('cancel-button'),
  deleteButton: byId('delete-button'),
  renameInput: byId('rename-input'),
  log: byId('event-log'),
  approvals: byId('approvals'),
  approvalList: byId('approval-list'),
  elicitations: byId('elicitations'),
  elicitationList: byId('elicitation-list'),
  composer: byId('composer'),
  message: byId('message-input'),
  sendButton: byId('send-button'),
  steerButton: byId('steer-button'),
  followupButton: byId('followup-button'),
};

// ---------------------------------------------------------------------------------------------------------------
// Errors

function showError(error) {
  let text;
  if (error instanceof ApiError) {
    text = `${error.title} (${error.code}, HTTP ${error.status})`;
    if (error.status === 401) text += ' Paste a bearer token above.';
  } else {
    text = error?.message ?? String(error);
  }
  ui.errorText.textContent = text;
  ui.errorBanner.hidden = false;
}

function clearError() {
  ui.errorBanner.hidden = true;
  ui.errorText.textContent = '';
}

/** Runs a user action: clears the last error, shows a new one, and keeps the button from being pressed twice. */
async function act(button, action) {
  clearError();
  if (button) button.disabled = true;
  try {
    await action();
  } catch (error) {
    showError(error);
  } finally {
    if (button) button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Apps, user and the live session list

function displayTitle(session) {
  return session.title || `Untitled (${session.id})`;
}

function updateUrl() {
  const params = new URLSearchParams({ app: state.app, user: state.user });
  if (state.current) params.set('session', state.current.id);
  history.replaceState(null, '', `?${params}`);
}

async function loadApps() {
  try {
    const apps = await api('GET', '/list-apps');
    ui.appOptions.replaceChildren(...apps.map((app) => h('option', { value: app })));
  } catch (error) {
    showError(error);
  }
}

function upsertSession(update) {
  const existing = state.sessions.get(update.id);
  if (existing && existing.updatedAt && update.updatedAt && update.updatedAt < existing.updatedAt) return;
  const session = { ...existing, ...update };
  state.sessions.set(session.id, session);
  renderSessionRow(session);
  if (state.current?.id === session.id) {
    showSessionInfo(session);
  }
}

function removeSession(id) {
  state.sessions.delete(id);
  state.rows.get(id)?.remove();
  state.rows.delete(id);
  ui.sessionListEmpty.hidden = state.sessions.size > 0;
}

function renderSessionRow(session) {
  let row = state.rows.get(session.id);
  if (!row) {
    row = h('li', { 'data-session-id': session.id },
      h('button', { type: 'button', onclick: () => openSession(session.id) },
        h('span', { class: 'name' }), h('span', { class: 'badge' })));
    state.rows.set(session.id, row);
  }
  const button = row.firstElementChild;
  button.setAttribute('aria-current', String(state.current?.id === session.id));
  button.querySelector('.name').textContent = (session.starred ? '★ ' : '') + displayTitle(session);
  const badge = button.querySelector('.badge');
  badge.textContent = session.status ?? 'idle';
  badge.dataset.status = session.status ?? 'idle';
  placeRows();
}

/** Newest first; moves only the rows that are out of place, so focus stays where it is. */
function placeRows() {
  const ordered = [...state.sessions.values()].sort((a, b) =>
    (b.updatedAt ?? '').localeCompare(a.updatedAt ?? '') || b.id.localeCompare(a.id));
  ordered.forEach((session, index) => {
    const row = state.rows.get(session.id);
    if (row && ui.sessionList.children[index] !== row) {
      ui.sessionList.insertBefore(row, ui.sessionList.children[index] ?? null);
    }
  });
  ui.sessionListEmpty.hidden = state.sessions.size > 0;
}

async function loadSessions(app, user) {
  ui.sessionList.setAttribute('aria-busy', 'true');
  try {
    const page = await api('GET', `/v1/sessions?appName=${enc(app)}&userId=${enc(user)}&limit=100`);
    if (state.app !== app || state.user !== user) return;
    for (const session of page.sessions) {
      upsertSession({
        id: session.id, title: session.title, status: session.status, updatedAt: session.updatedAt, starred: session.starred,
      });
    }
  } catch (error) {
    showError(error);
  } finally {
    if (state.app === app && state.user === user) ui.sessionList.setAttribute('aria-busy', 'false');
  }
}

function onFeedFrame(frame) {
  let notice;
  try {
    notice = JSON.parse(frame.data);
  } catch {
    return;
  }
  if (!notice?.sessionId) return;
  if (frame.event === 'deleted') {
    removeSession(notice.sessionId);
    if (state.current?.id === notice.sessionId) sessionGone(state.current);
    return;
  }
  upsertSession({ id: notice.sessionId, title: notice.title, status: notice.status, updatedAt: notice.at });
}

function applyScope() {
  state.app = ui.appInput.value.trim();
  state.user = ui.userInput.value.trim();
  closeSession();
  state.feed?.close();
  state.feed = null;
  state.sessions.clear();
  state.rows.clear();
  ui.sessionList.replaceChildren();
  ui.sessionListEmpty.hidden = false;
  updateUrl();
  if (!state.app || !state.user) return;
  const { app, user } = state;
  loadSessions(app, user);
  state.feed = follow(`/v1/stream?appName=${enc(app)}&userId=${enc(user)}`, {
    onFrame: onFeedFrame,
    onState: (s) => { ui.feedState.textContent = s === 'live' ? 'Live updates on.' : s === 'reconnecting' ? 'Reconnecting…' : ''; },
    onFatal: showError,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// One session: its events as a conversation, live deltas, status, approvals and elicitations

function closeSession() {
  const current = state.current;
  if (!current) return;
  current.stream?.close();
  state.current = null;
  ui.panel.hidden = true;
  ui.placeholder.hidden = false;
  state.rows.get(current.id)?.firstElementChild.setAttribute('aria-current', 'false');
}

async function openSession(id) {
  clearError();
  closeSession();
  const current = { id, title: '', status: null, starred: false, lastSeq: 0, live: new Map(), stream: null, pendingVersion: 0, followupKey: null };
  state.current = current;
  state.rows.get(id)?.firstElementChild.setAttribute('aria-current', 'true');
  ui.log.replaceChildren();
  ui.notice.hidden = true;
  ui.placeholder.hidden = true;
  ui.panel.hidden = false;
  setComposerEnabled(true);
  clearPending();
  updateUrl();
  try {
    const session = await api('GET', `/v1/sessions/${enc(id)}?events=none`);
    if (state.current !== current) return;
    showSessionInfo(session);
    setStatus(current, session.status);
  } catch (error) {
    if (state.current === current) showError(error);
    return;
  }
  current.stream = follow(`/v1/sessions/${enc(id)}/stream?after=0`, {
    onFrame: (frame) => onSessionFrame(current, frame),
    onFatal: (error) => { if (state.current === current) showError(error); },
  });
}

function showSessionInfo(session) {
  const current = state.current;
  if (session.title !== undefined) current.title = session.title ?? '';
  if (session.starred !== undefined) current.starred = session.starred;
  ui.title.textContent = displayTitle({ id: current.id, title: current.title });
  if (document.activeElement !== ui.renameInput) ui.renameInput.value = current.title;
  ui.starButton.setAttribute('aria-pressed', String(current.starred));
  ui.starButton.textContent = current.starred ? 'Starred' : 'Star';
}

function onSessionFrame(current, frame) {
  if (state.current !== current) return;
  let data;
  try {
    data = JSON.parse(frame.data);
  } catch {
    return;
  }
  switch (frame.event) {
    case 'event':
      if (typeof data.seq === 'number' && data.seq <= current.lastSeq) return;
      current.lastSeq = data.seq ?? current.lastSeq;
      renderEvent(current, data);
      break;
    case 'delta':
      renderDelta(current, data);
      break;
    case 'status':
      setStatus(current, data.status);
      break;
    case 'end':
      sessionGone(current);
      break;
    case 'error':
      showError(new ApiError(data.status ?? 500, data.code ?? 'stream_error', data.title ?? 'The stream failed.'));
      break;
    default:
      break;
  }
}

function sessionGone(current) {
  current.stream?.close();
  setStatus(current, 'deleted');
  ui.notice.textContent = 'This session was deleted.';
  ui.notice.hidden = false;
  setComposerEnabled(false);
  clearPending();
}

function setComposerEnabled(enabled) {
  for (const control of [ui.message, ui.sendButton, ui.steerButton, ui.followupButton, ui.cancelButton, ui.starButton, ui.deleteButton, ui.renameInput]) {
    control.disabled = !enabled;
  }
}

function setStatus(current, status) {
  if (state.current !== current) return;
  current.status = status;
  ui.status.textContent = status;
  ui.status.dataset.status = status;
  const running = status === 'running';
  // While a turn runs, new input steers it or queues after it; while it waits, a new turn is refused by the server.
  ui.sendButton.hidden = running;
  ui.steerButton.hidden = !running;
  ui.followupButton.hidden = !ACTIVE.has(status);
  ui.cancelButton.hidden = !ACTIVE.has(status);
  if (!running) {
    for (const node of current.live.values()) node.remove();
    current.live.clear();
  }
  if (status === 'waiting') refreshPending(current);
  else clearPending();
  const listed = state.sessions.get(current.id);
  if (listed && listed.status !== status && status !== 'deleted') {
    listed.status = status;
    renderSessionRow(listed);
  }
}

function liveKey(event) {
  return `${event.invocationId ?? ''}|${event.author ?? ''}`;
}

function appendToLog(node) {
  const atBottom = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40;
  ui.log.append(node);
  if (atBottom) ui.log.scrollTop = ui.log.scrollHeight;
}

function renderDelta(current, event) {
  const text = (event.content?.parts ?? []).map((part) => part.text ?? '').join('');
  if (!text) return;
  const key = liveKey(event);
  let node = current.live.get(key);
  if (!node) {
    node = h('li', { class: 'event model live', 'aria-busy': 'true', 'data-live': '' },
      h('header', {}, h('span', {}, event.author ?? 'agent'), h('span', { class: 'tag' }, 'streaming')),
      h('p', { class: 'text' }));
    current.live.set(key, node);
    appendToLog(node);
  }
  node.querySelector('.text').append(text);
}

function renderEvent(current, event) {
  if (event.partial) return;
  // The final event of a step supersedes its streamed deltas.
  const key = liveKey(event);
  current.live.get(key)?.remove();
  current.live.delete(key);
  const node = eventNode(event);
  if (node) appendToLog(node);
}

function eventNode(event) {
  const author = event.author ?? 'unknown';
  const metadata = event.metadata ?? {};
  const actions = event.actions ?? {};
  const body = [];
  const tags = [];
  let tool = false;
  for (const part of event.content?.parts ?? []) {
    if (typeof part.text === 'string') {
      if (part.text !== '') body.push(h('p', { class: 'text' }, part.text));
    } else if (part.functionCall) {
      tool = true;
      body.push(h('p', {}, 'Calls tool ', h('code', {}, part.functionCall.name ?? '?')), h('pre', {}, json(part.functionCall.args)));
    } else if (part.functionResponse) {
      tool = true;
      body.push(h('p', {}, 'Tool ', h('code', {}, part.functionResponse.name ?? '?'), ' returned'), h('pre', {}, json(part.functionResponse.response)));
    } else if (Object.keys(part).length > 0) {
      body.push(h('pre', {}, json(part)));
    }
  }
  const error = Boolean(event.errorCode || event.errorMessage);
  if (error) {
    body.push(h('p', { class: 'text' }, `Error${event.errorCode ? ` (${event.errorCode})` : ''}: ${event.errorMessage ?? ''}`));
  }
  const confirmations = Object.entries(actions.requestedToolConfirmations ?? {});
  for (const [callId, request] of confirmations) {
    body.push(h('p', {}, 'Asks approval to call ', h('code', {}, request?.name ?? callId)));
  }
  if (actions.requestedInput) {
    body.push(h('p', {}, `Asks for input: ${actions.requestedInput.message ?? ''}`));
  }
  if (metadata.toolConfirmation) {
    body.push(h('p', {}, `Decision: ${metadata.toolConfirmation.decision} (${metadata.toolConfirmation.toolCallId})`));
  }
  if (metadata.elicitationAnswer) {
    body.push(h('p', {}, `Answered a request for input: ${metadata.elicitationAnswer.action}`));
  }
  const stateDelta = actions.stateDelta ?? {};
  if (body.length === 0 && Object.keys(stateDelta).length > 0) {
    body.push(h('p', {}, 'State change'), h('pre', {}, json(stateDelta)));
  }
  if (event.interrupted) tags.push('interrupted');
  if (metadata.steer) tags.push('steer');
  if (body.length === 0 && tags.length === 0) return null;

  const hasContent = (event.content?.parts ?? []).length > 0;
  const kind = error ? 'error' : tool ? 'tool' : !hasContent ? 'note' : author === 'user' ? 'user' : 'model';
  const time = event.timestamp ? h('time', { datetime: event.timestamp }, new Date(event.timestamp).toLocaleTimeString()) : null;
  return h('li', { class: `event ${kind}`, 'data-seq': event.seq, 'data-author': author },
    h('header', {}, h('span', {}, author), tags.map((tag) => h('span', { class: 'tag' }, tag)), time),
    body);
}

function clearPending() {
  if (state.current) state.current.pendingVersion += 1;
  ui.approvals.hidden = true;
  ui.approvalList.replaceChildren();
  ui.elicitations.hidden = true;
  ui.elicitationList.replaceChildren();
}

async function refreshPending(current) {
  const version = ++current.pendingVersion;
  let run;
  try {
    run = await api('GET', `/v1/sessions/${enc(current.id)}/status`);
  } catch (error) {
    showError(error);
    return;
  }
  if (state.current !== current || current.pendingVersion !== version) return;
  const approvals = run.pendingApprovals ?? [];
  ui.approvalList.replaceChildren(...approvals.map((approval) => approvalItem(current, approval)));
  ui.approvals.hidden = approvals.length === 0;
  const elicitations = run.pendingElicitations ?? [];
  ui.elicitationList.replaceChildren(...elicitations.map((elicitation) => elicitationForm(current, elicitation)));
  ui.elicitations.hidden = elicitations.length === 0;
}

function approvalItem(current, approval) {
  const item = h('li', { 'data-tool-call-id': approval.toolCallId },
    h('p', {}, 'The agent wants to call ', h('code', {}, approval.name), '.'),
    h('pre', {}, json(approval.args)));
  if (approval.decision) {
    item.append(h('p', { class: 'muted' }, `Decided: ${approval.decision}`));
    return item;
  }
  const group = h('div', { class: 'actions', role: 'group', 'aria-label': `Decision on ${approval.name}` });
  const decide = (decision) => act(null, async () => {
    for (const button of group.querySelectorAll('button')) button.disabled = true;
    try {
      await api('POST', `/v1/sessions/${enc(current.id)}/approvals`, { toolCallId: approval.toolCallId, decision });
      item.remove();
      if (ui.approvalList.children.length === 0) ui.approvals.hidden = true;
    } finally {
      for (const button of group.querySelectorAll('button')) button.disabled = false;
    }
  });
  group.append(
    h('button', { type: 'button', onclick: () => decide('approve') }, 'Approve'),
    h('button', { type: 'button', onclick: () => decide('reject') }, 'Reject'),
    h('button', { type: 'button', onclick: () => decide('approve_always') }, 'Always allow'));
  item.append(group);
  return item;
}

let fieldCounter = 0;

/** A form for an elicitation's flat JSON schema: text, number, boolean and enum fields. */
function elicitationForm(current, elicitation) {
  const schema = elicitation.requestedSchema ?? {};
  const required = new Set(schema.required ?? []);
  const fields = [];
  const form = h('form', { 'aria-label': elicitation.message || 'Request for input' }, h('p', {}, elicitation.message ?? ''));
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const id = `elicitation-field-${++fieldCounter}`;
    let input;
    if (Array.isArray(property.enum)) {
      input = h('select', { id, name }, property.enum.map((value) => h('option', { value: String(value) }, String(value))));
    } else if (property.type === 'boolean') {
      input = h('input', { id, name, type: 'checkbox' });
    } else if (property.type === 'number' || property.type === 'integer') {
      input = h('input', { id, name, type: 'number', step: property.type === 'integer' ? '1' : 'any', required: required.has(name) });
    } else {
      input = h('input', { id, name, type: 'text', required: required.has(name) });
    }
    fields.push({ name, property, input });
    form.append(h('label', { for: id }, property.title ?? name), input);
    if (property.description) form.append(h('small', { class: 'muted' }, property.description));
  }
  const answer = (action, content) => act(null, async () => {
    await api('POST', `/v1/sessions/${enc(current.id)}/elicitations/${enc(elicitation.elicitationId)}`, { action, content });
    form.remove();
    if (ui.elicitationList.children.length === 0) ui.elicitations.hidden = true;
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const content = {};
    for (const { name, property, input } of fields) {
      if (property.type === 'boolean') content[name] = input.checked;
      else if ((property.type === 'number' || property.type === 'integer') && input.value !== '') content[name] = Number(input.value);
      else if (input.value !== '') content[name] = input.value;
    }
    answer('accept', content);
  });
  form.append(h('div', { class: 'actions' },
    h('button', { type: 'submit' }, 'Submit'),
    h('button', { type: 'button', onclick: () => answer('decline', null) }, 'Decline'),
    h('button', { type: 'button', onclick: () => answer('cancel', null) }, 'Cancel')));
  return form;
}

// ---------------------------------------------------------------------------------------------------------------
// User actions

function defaultSubmitter() {
  return [ui.sendButton, ui.steerButton, ui.followupButton].find((button) => !button.hidden);
}

async function submitMessage(action, button) {
  const current = state.current;
  const text = ui.message.value.trim();
  if (!current || !text) {
    ui.message.focus();
    return;
  }
  const base = `/v1/sessions/${enc(current.id)}`;
  await act(button, async () => {
    if (action === 'steer') {
      await api('POST', `${base}/steer`, { input: text });
    } else if (action === 'followup') {
      // One key per draft, so a retry after a lost answer does not queue the same follow-up twice.
      current.followupKey ??= randomKey();
      await api('POST', `${base}/followups`, { input: text }, { 'Idempotency-Key': current.followupKey });
      current.followupKey = null;
    } else {
      await api('POST', `${base}/turns`, { input: text });
    }
    ui.message.value = '';
  });
}

function wireEvents() {
  byId('scope-form').addEventListener('submit', (event) => {
    event.preventDefault();
    clearError();
    applyScope();
  });
  byId('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = ui.tokenInput.value.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    ui.tokenInput.value = '';
    ui.tokenInput.placeholder = token ? 'token in use for this tab' : 'only when auth is on';
    clearError();
    loadApps();
    applyScope();
  });
  byId('token-clear').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    ui.tokenInput.value = '';
    ui.tokenInput.placeholder = 'only when auth is on';
    applyScope();
  });
  byId('error-dismiss').addEventListener('click', clearError);
  byId('create-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const titleInput = byId('create-title');
    act(event.submitter, async () => {
      if (!state.app || !state.user) applyScope();
      const body = { appName: state.app, userId: state.user };
      if (titleInput.value.trim()) body.title = titleInput.value.trim();
      const session = await api('POST', '/v1/sessions', body);
      titleInput.value = '';
      upsertSession({ id: session.id, title: session.title, status: session.status, updatedAt: session.updatedAt, starred: session.starred });
      await openSession(session.id);
      ui.message.focus();
    });
  });
  ui.composer.addEventListener('submit', (event) => {
    event.preventDefault();
    const button = event.submitter ?? defaultSubmitter();
    submitMessage(button?.value ?? 'turn', button);
  });
  ui.message.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.composer.requestSubmit(defaultSubmitter());
    }
  });
  ui.cancelButton.addEventListener('click', () => {
    const current = state.current;
    if (current) act(ui.cancelButton, () => api('POST', `/v1/sessions/${enc(current.id)}/cancel`));
  });
  ui.starButton.addEventListener('click', () => {
    const current = state.current;
    if (!current) return;
    act(ui.starButton, async () => {
      const session = await api('PATCH', `/v1/sessions/${enc(current.id)}`, { starred: !current.starred });
      upsertSession({ id: session.id, title: session.title, status: session.status, updatedAt: session.updatedAt, starred: session.starred });
    });
  });
  byId('rename-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const current = state.current;
    if (!current) return;
    act(event.submitter, async () => {
      const session = await api('PATCH', `/v1/sessions/${enc(current.id)}`, { title: ui.renameInput.value.trim() });
      upsertSession({ id: session.id, title: session.title, status: session.status, updatedAt: session.updatedAt, starred: session.starred });
    });
  });
  ui.deleteButton.addEventListener('click', () => {
    const current = state.current;
    if (!current || !window.confirm(`Delete "${displayTitle(current)}" and all its events?`)) return;
    act(ui.deleteButton, async () => {
      await api('DELETE', `/v1/sessions/${enc(current.id)}`);
      removeSession(current.id);
      closeSession();
      updateUrl();
    });
  });
}

function start() {
  const params = new URLSearchParams(location.search);
  if (params.get('app')) ui.appInput.value = params.get('app');
  if (params.get('user')) ui.userInput.value = params.get('user');
  if (sessionStorage.getItem(TOKEN_KEY)) ui.tokenInput.placeholder = 'token in use for this tab';
  wireEvents();
  loadApps();
  applyScope();
  if (params.get('session')) openSession(params.get('session'));
}

start();
