// live.js — the /ws activity stream. One socket for the whole page
// (authenticated by the session cookie; same origin), reconnecting with a
// back-off while signed in. Pages subscribe to log events; the socket's
// state and any drops the gateway reports are published too.

const listeners = new Set();       // fn(event) for {type:'log', data} / {type:'dropped', count}
const stateListeners = new Set();  // fn(state) 'connecting' | 'open' | 'closed'
let socket = null;
let wanted = false;
let backoff = 500;
let pingTimer = null;
let reconnectTimer = null;
let state = 'closed';
let filter = null;
let dropped = 0;

function setState(next) {
  state = next;
  for (const fn of stateListeners) fn(next);
}

function connect() {
  if (!wanted || socket) return;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  setState('connecting');
  let ws;
  try { ws = new WebSocket(`${scheme}//${location.host}/ws`); } catch { scheduleReconnect(); return; }
  socket = ws;
  ws.addEventListener('open', () => {
    backoff = 500;
    setState('open');
    if (filter) ws.send(JSON.stringify({ type: 'filter', ...filter }));
    clearInterval(pingTimer);
    pingTimer = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"ping"}');
    }, 25000);
  });
  ws.addEventListener('message', (ev) => {
    if (typeof ev.data !== 'string' || ev.data.length > 1 << 20) return;
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'dropped') dropped += Number(msg.count) || 0;
    if (msg.type === 'log' || msg.type === 'dropped' || msg.type === 'connected') {
      for (const fn of listeners) {
        try { fn(msg); } catch (e) { console.error(e); }
      }
    }
  });
  ws.addEventListener('close', () => {
    clearInterval(pingTimer);
    if (socket === ws) socket = null;
    setState('closed');
    scheduleReconnect();
  });
  ws.addEventListener('error', () => { /* close follows */ });
}

function scheduleReconnect() {
  if (!wanted || reconnectTimer) return;
  reconnectTimer = setTimeout(() => { reconnectTimer = null; connect(); }, backoff);
  backoff = Math.min(backoff * 2, 15000);
}

export const live = {
  start() { wanted = true; connect(); },
  stop() {
    wanted = false;
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (socket) { const ws = socket; socket = null; ws.close(); }
  },
  /** fn(msg) for every message; returns an unsubscribe function. */
  subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); },
  onState(fn) { stateListeners.add(fn); fn(state); return () => stateListeners.delete(fn); },
  get state() { return state; },
  get dropped() { return dropped; },
  /** The server-side filter (server_id, types, level); null clears it. */
  setFilter(next) {
    filter = next ? { server_id: next.server_id || null, types: next.types || null,
                      level: next.level || null } : null;
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: 'filter', ...(filter || { server_id: null, types: null, level: null }) }));
    }
  },
};
