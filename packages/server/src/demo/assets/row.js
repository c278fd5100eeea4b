// One file's upload and its row on the page: name, size, progress (sent and acknowledged),
// speed, pause/resume, cancel, retry after an error, the resulting URL. The row's data-*
// attributes mirror its state for scripts (and the e2e test).

import { formatBytes, formatRate, percent, RateMeter } from './format.js';
import { blobSource, Upload } from './tus-s3-client.min.js';

const STATE_TEXT = {
  running: 'uploading',
  paused: 'paused',
  done: 'done',
  failed: 'failed',
  aborted: 'cancelled',
};

/** @param {string} tag @param {string} cls @param {string} [text] */
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** @param {string} text @param {string} label @param {boolean} [secondary] */
function button(text, label, secondary = false) {
  const b = el('button', secondary ? 'secondary' : '', text);
  b.type = 'button';
  b.setAttribute('aria-label', label);
  return b;
}

export class UploadRow {
  /**
   * @param {File} file
   * @param {{ settings: () => object, store: object, announcer: import('./announcer.js').Announcer,
   *   onUrls: (urls: string[]) => void }} ctx
   */
  constructor(file, ctx) {
    this.file = file;
    this.ctx = ctx;
    this.meter = new RateMeter();
    this.upload = null;
    /** The last progress event. */
    this.last = null;
    this.li = this.render();
  }

  render() {
    const name = this.file.name;
    const li = el('li', 'upload');
    const head = el('div', 'head');
    head.append(el('span', 'name', name), el('span', 'size', formatBytes(this.file.size)));
    this.stateEl = el('span', 'state', 'starting');
    head.append(this.stateEl);
    this.bar = el('progress', '');
    this.bar.max = Math.max(this.file.size, 1);
    this.bar.value = 0;
    this.bar.setAttribute('aria-label', `${name}: bytes acknowledged by the server`);
    this.figures = el('p', 'figures', ' ');
    this.note = el('p', 'note');
    this.note.hidden = true;
    this.pauseBtn = button('Pause', `Pause ${name}`);
    this.cancelBtn = button('Cancel', `Cancel ${name}`, true);
    this.retryBtn = button('Retry', `Retry ${name}`);
    this.retryBtn.hidden = true;
    this.pauseBtn.addEventListener('click', () => this.togglePause());
    this.cancelBtn.addEventListener('click', () => this.cancel());
    this.retryBtn.addEventListener('click', () => this.start());
    const actions = el('div', 'actions');
    actions.append(this.pauseBtn, this.cancelBtn, this.retryBtn);
    this.result = el('p', 'result');
    this.result.hidden = true;
    li.append(head, this.bar, this.figures, this.note, actions, this.result);
    return li;
  }

  /** Starts, or after an error starts again: the store finds the upload, so it resumes. */
  start() {
    const s = this.ctx.settings();
    const upload = new Upload(blobSource(this.file), {
      endpoint: s.endpoint,
      store: this.ctx.store,
      chunkSize: s.chunkSize,
      parallel: s.parallel,
      retry: { baseDelayMs: 500, maxDelayMs: 10_000, maxRetries: 8 },
    });
    this.upload = upload;
    this.meter.reset();
    this.meter.add(this.last?.bytesAcknowledged ?? 0);
    this.retryBtn.hidden = true;
    this.pauseBtn.disabled = false;
    this.cancelBtn.disabled = false;
    this.li.dataset.resumed = '';
    this.showNote('');
    this.listen(upload);
    this.setState('running');
    upload.start().then(
      (r) => this.finished(r),
      (e) => this.failed(e),
    );
  }

  /** @param {Upload} upload */
  listen(upload) {
    const name = this.file.name;
    upload.on('progress', (p) => this.progress(p));
    upload.on('created', (e) => {
      this.li.dataset.url = e.url;
      this.ctx.onUrls([e.url]);
    });
    upload.on('resumed', (e) => {
      this.li.dataset.resumed = String(e.offset);
      this.li.dataset.url = e.url;
      this.ctx.onUrls([e.url]);
      this.showNote(
        `Resumed at ${formatBytes(e.offset)}: what the server already had is not sent again.`,
      );
      this.ctx.announcer.say(`${name}: resuming at ${percent(e.offset, this.file.size)}%`);
    });
    upload.on('parallel', (e) => {
      const urls = e.partials.map((p) => p.uploadUrl).filter(Boolean);
      this.ctx.onUrls(urls);
      if (e.resumed) {
        const at = e.partials.reduce((n, p) => n + p.offset, 0);
        this.li.dataset.resumed = String(at);
        this.showNote(`Resuming ${e.partials.length} partial uploads (${formatBytes(at)} stored).`);
      }
    });
    upload.on('partial', (e) => this.ctx.onUrls([e.url]));
    upload.on('retry', (e) => this.showNote(`Retrying (#${e.attempt}): ${e.error.message}`, true));
    upload.on('storeError', (e) => this.showNote(e.message, true));
    upload.on('paused', () => this.setState('paused'));
  }

  /** @param {{ bytesSent: number, bytesAcknowledged: number, bytesTotal: number | null }} p */
  progress(p) {
    if (p.bytesAcknowledged !== this.last?.bytesAcknowledged) this.meter.add(p.bytesAcknowledged);
    this.last = p;
    this.bar.value = p.bytesAcknowledged;
    this.li.dataset.sent = String(p.bytesSent);
    this.li.dataset.acked = String(p.bytesAcknowledged);
    this.renderFigures();
    const total = p.bytesTotal ?? this.file.size;
    this.ctx.announcer.progress(this, this.file.name, percent(p.bytesAcknowledged, total));
  }

  /** Sent and acknowledged bytes; the rate only while bytes move. */
  renderFigures() {
    const p = this.last;
    if (!p) return;
    const total = p.bytesTotal ?? this.file.size;
    const pct = percent(p.bytesAcknowledged, total);
    const rate = this.upload?.state === 'running' ? ` · ${formatRate(this.meter.rate())}` : '';
    this.figures.textContent =
      `sent ${formatBytes(p.bytesSent)} · acknowledged ${formatBytes(p.bytesAcknowledged)} ` +
      `of ${formatBytes(total)} (${pct}%)${rate}`;
  }

  togglePause() {
    const u = this.upload;
    if (!u) return;
    if (u.state === 'paused') {
      u.resume();
      this.meter.reset();
      this.meter.add(this.last?.bytesAcknowledged ?? 0);
      this.setState('running');
    } else if (u.state === 'running') {
      u.pause();
    }
  }

  async cancel() {
    const u = this.upload;
    if (!u) return;
    this.pauseBtn.disabled = true;
    this.cancelBtn.disabled = true;
    try {
      await u.terminate();
      this.setState('aborted');
      this.showNote('Cancelled: the upload was deleted on the server.');
    } catch (e) {
      this.showNote(`Cancel failed: ${e.message}`, true);
      this.cancelBtn.disabled = false;
    }
  }

  /** @param {{ url: string, size: number }} r */
  finished(r) {
    this.setState('done');
    this.li.dataset.url = r.url;
    this.pauseBtn.disabled = true;
    this.cancelBtn.disabled = true;
    this.result.replaceChildren('Uploaded: ');
    const a = el('a', '', r.url);
    a.href = r.url;
    this.result.append(a);
    this.result.hidden = false;
  }

  /** @param {{ kind?: string, message?: string }} e */
  failed(e) {
    if (e.kind === 'aborted') return; // cancel() says what happened
    this.setState('failed');
    this.showNote(e.message ?? String(e), true);
    this.pauseBtn.disabled = true;
    this.retryBtn.hidden = false;
  }

  /** @param {keyof typeof STATE_TEXT} state */
  setState(state) {
    this.li.dataset.state = state;
    this.stateEl.textContent = STATE_TEXT[state];
    this.pauseBtn.textContent = state === 'paused' ? 'Resume' : 'Pause';
    this.pauseBtn.setAttribute('aria-label', `${this.pauseBtn.textContent} ${this.file.name}`);
    this.renderFigures();
    if (state !== 'running') this.ctx.announcer.say(`${this.file.name}: ${STATE_TEXT[state]}`);
  }

  /** @param {string} text @param {boolean} [error] */
  showNote(text, error = false) {
    this.note.textContent = text;
    this.note.hidden = text === '';
    this.note.classList.toggle('error', error);
  }
}
