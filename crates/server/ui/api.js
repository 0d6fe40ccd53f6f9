// The JSON API, as the UI calls it. Every failure becomes an ApiError carrying the server's
// {error, code, ...details} body, so screens can say what to fix.

export class ApiError extends Error {
  constructor(body, status) {
    super(body && body.error ? body.error : `the server answered HTTP ${status}`);
    this.body = body || {};
    this.status = status;
    this.code = this.body.code || (status ? `http_${status}` : 'network');
  }
}

async function parse(res) {
  let body;
  try {
    body = await res.json();
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    body = { error: `the server answered ${res.status} ${res.statusText} without a JSON body` };
  }
  if (!res.ok || body.success === false) throw new ApiError(body, res.status);
  return body;
}

async function send(url, init) {
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError({ error: `could not reach the server (${e.message}); is it running?`, code: 'network' }, 0);
  }
  return res;
}

export async function getJSON(url, signal) {
  return parse(await send(url, { headers: { accept: 'application/json' }, signal }));
}

export async function postJSON(url, data, signal) {
  return parse(await send(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(data),
    signal,
  }));
}

// POST /api/compare/stream: calls onStage({stage, label, elapsedMs}) as stages start and
// resolves with the compare response (or throws the error event as an ApiError).
export async function compareStream(request, onStage, signal) {
  const res = await send('/api/compare/stream', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(request),
    signal,
  });
  if (!res.ok || !(res.headers.get('content-type') || '').startsWith('text/event-stream')) {
    return parse(res);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let from = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let end;
    // A large result arrives in many chunks: look for the frame end only in the new part.
    while ((end = buf.indexOf('\n\n', Math.max(0, from - 1))) >= 0) {
      const frame = buf.slice(0, end);
      buf = buf.slice(end + 2);
      from = 0;
      const { event, data } = parseFrame(frame);
      if (!data) continue;
      const payload = JSON.parse(data);
      if (event === 'stage') onStage(payload);
      else if (event === 'result') return payload;
      else if (event === 'error') throw new ApiError(payload, payload.status || 500);
    }
    from = buf.length;
  }
  throw new ApiError({ error: 'the connection closed before the comparison finished; try again', code: 'stream_closed' }, 0);
}

function parseFrame(frame) {
  let event = 'message';
  let data = '';
  for (const line of frame.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data += (data ? '\n' : '') + value;
  }
  return { event, data };
}
