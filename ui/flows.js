// Running flows: one card per customer, driven by `flow://event` pushed from Rust.
import { call, on } from './ipc.js';
import { $, el } from './dom.js';
import { t } from './i18n.js';
import { methodLabel } from './methods.js';

const cards = new Map(); // flow_id -> { node, expiresAt, method }
let box;
let empty;

export function mountFlows() {
  box = $('#flows');
  empty = $('#flows-empty');
  on('flow://event', handle);
  setInterval(tickCountdowns, 1000);
}

/** Creates the card as soon as the start command returns, before the first event. */
export function track(flowId, method, text) {
  const card = ensureCard(flowId, method);
  card.text = text;
  // The engine's `started` may have made the card first: a redirect or signing-link card names
  // its provider.
  if (method?.startsWith('redirect:') || method?.startsWith('sign-link:')) {
    card.method = method;
    $('.flow-method', card.node).textContent = t(methodLabel(method)[0]);
  }
  // After Send, a keyboard user lands on the new card (the words to read, Cancel), not at the
  // top of the page.
  card.node.tabIndex = -1;
  card.node.focus({ preventScroll: false });
}

function ensureCard(flowId, method) {
  let card = cards.get(flowId);
  if (card) return card;
  const node = $('#flow-card').content.firstElementChild.cloneNode(true);
  node.dataset.flowId = flowId;
  node.querySelectorAll('[data-i18n]').forEach((n) => { n.textContent = t(n.dataset.i18n); });
  $('.flow-method', node).textContent = method ? t(methodLabel(method)[0]) : '';
  $('.status', node).textContent = t('flow.starting');
  $('.cancel', node).addEventListener('click', async (ev) => {
    ev.target.disabled = true;
    try { await call('cancel_flow', { flowId }); } catch (e) { setStatus(node, e.message); ev.target.disabled = false; }
  });
  $('.dismiss', node).addEventListener('click', () => { node.remove(); cards.delete(flowId); updateEmpty(); });
  const qr = $('.qr', node);
  qr.id = `qr-${flowId}`;
  $('.show-qr', node).setAttribute('aria-controls', qr.id);
  $('.show-qr', node).addEventListener('click', () => showQr(card, !card.qrShown));
  $('.qr-larger', node).addEventListener('click', (ev) => {
    const large = !qr.classList.contains('large');
    qr.classList.toggle('large', large);
    ev.currentTarget.setAttribute('aria-pressed', String(large));
  });
  box.prepend(node);
  card = { node, expiresAt: null, method, qrShown: false };
  cards.set(flowId, card);
  updateEmpty();
  return card;
}

// How long the binding words took from leaving Rust to being laid out, visible, in the window
// (layout is forced right after the DOM update). Kept for `make bench`, which reads
// `window.__bindingShownMs` over WebDriver; bounded, no effect on staff.
function recordShownDelay(sentAtMs, node) {
  if (typeof sentAtMs !== 'number') return;
  if (node.getBoundingClientRect().height <= 0) return;
  const samples = (window.__bindingShownMs ??= []);
  if (samples.length < 10000) samples.push(Date.now() - sentAtMs);
}

function updateEmpty() { empty.hidden = cards.size > 0; }

/** Shows or hides a BankID QR code; the larger mode is offered while it shows. */
function showQr(card, shown) {
  const { node } = card;
  card.qrShown = shown;
  const button = $('.show-qr', node);
  button.setAttribute('aria-expanded', String(shown));
  button.textContent = t(shown ? 'flow.qr_hide' : 'flow.qr_show');
  $('.qr-larger', node).hidden = !shown;
  $('.qr', node).hidden = !shown || !$('.qr', node).dataset.payload;
}

function setStatus(node, text) { $('.status', node).textContent = text; }

/** Says `text` to screen readers: a new line in the live log, so the binding words are not cut
 * off by the progress line that follows them. The last few lines are kept. */
function announce(text) {
  const region = $('#announcer');
  region.append(el('p', { text }));
  while (region.childElementCount > 8) region.firstElementChild.remove();
}

function handle(ev) {
  const card = ensureCard(ev.flow_id, ev.method);
  const { node } = card;
  switch (ev.type) {
    case 'started':
      // A redirect or signing-link card keeps its provider's name (`started` says only the method).
      if (!['redirect', 'sign_link'].includes(ev.method) || !card.method?.includes(':')) {
        card.method = ev.method;
        $('.flow-method', node).textContent = t(methodLabel(ev.method)[0]);
      }
      card.expiresAt = ev.expires_at ? new Date(ev.expires_at) : null;
      tickCountdowns();
      break;
    case 'binding_message': {
      const b = $('.binding', node);
      $('.binding-text', b).textContent = ev.text;
      b.hidden = false;
      announce(`${t('flow.binding_label')} ${ev.text}`);
      recordShownDelay(ev.sent_at_ms, $('.binding-text', b));
      break;
    }
    case 'qr': {
      const q = $('.qr', node);
      if (ev.svg) {
        // Rendered by our own Rust code from the QR payload; never from the network. Shown once
        // staff press "Show QR code" (the customer has the app open by then).
        q.innerHTML = ev.svg;
        q.dataset.payload = ev.data;
        q.setAttribute('aria-label', t('flow.qr_alt'));
        $('.qr-step', node).hidden = false;
        q.hidden = !card.qrShown;
      }
      break;
    }
    case 'app_launch': {
      const p = $('.launch', node);
      const a = $('.launch-link', p);
      a.textContent = t('flow.launch');
      a.href = ev.url;
      p.hidden = false;
      break;
    }
    case 'redirect':
      setStatus(node, t('flow.redirect'));
      break;
    case 'signature_url': {
      // Sign API v2 by link: the customer scans the signing page's address with their own phone,
      // or signs on this screen in the sandboxed window.
      const q = $('.qr', node);
      if (ev.svg) {
        q.innerHTML = ev.svg; // rendered by our own Rust code from the URL
        q.dataset.payload = ev.url;
        q.setAttribute('aria-label', t('flow.sign_qr_alt'));
        q.hidden = false;
      }
      setStatus(node, t('flow.sign_qr_hint'));
      const p = $('.launch', node);
      p.replaceChildren(el('button', {
        class: 'open-signing', type: 'button', text: t('flow.sign_here'),
        onclick: async (e) => {
          try { await call('open_signing_window', { flowId: ev.flow_id }); } catch (err) { setStatus(node, err.message); e.target.disabled = false; }
        },
      }));
      p.hidden = false;
      break;
    }
    case 'progress':
      // The redirect flow's `CREATED` says nothing more than the line above.
      if (card.method?.startsWith('redirect')) break;
      setStatus(node, ev.message);
      announce(ev.message);
      // A clock that is off stays said after this flow's next line replaces it: every later
      // flow meets the same clock, and only IT can fix it.
      if (ev.status === 'clock_skew') {
        const banner = $('#clock-warning');
        banner.textContent = ev.message;
        banner.hidden = false;
      }
      break;
    default:
      if (['succeeded', 'signed', 'failed', 'cancelled', 'expired'].includes(ev.type)) finish(card, ev);
  }
}

function finish(card, ev) {
  const { node } = card;
  const state = ev.type === 'failed' && ev.code === 'customer_aborted' ? 'aborted' : ev.type;
  node.dataset.state = ev.type;
  card.expiresAt = null;
  $('.countdown', node).textContent = '';
  $('.binding', node).hidden = true;
  $('.qr', node).hidden = true;
  $('.qr-step', node).hidden = true;
  $('.launch', node).hidden = true;
  $('.cancel', node).hidden = true;
  $('.dismiss', node).hidden = false;
  setStatus(node, ev.type === 'failed' ? `${t(`status.${state}`)} — ${ev.message}` : t(`status.${state}`));
  if (ev.subject) renderResult(node, ev, card.text);
  // The outcome, with the customer's name (never their number).
  announce([t(`status.${state}`), ev.subject?.name, ev.type === 'failed' ? ev.message : ''].filter(Boolean).join(' — '));
}

function renderResult(node, ev, signedText) {
  const s = ev.subject;
  const rows = [
    ['result.birthdate', s.date_of_birth],
    ['result.nin', s.nin_masked],
    ['result.loa', s.loa],
    ['result.risk', s.risk],
    ['result.locked_to', s.locked_to],
  ].filter(([, v]) => v);
  const result = $('.result', node);
  result.replaceChildren(
    el('p', { class: 'name', text: s.name }),
    el('dl', {}, rows.flatMap(([k, v]) => [el('dt', { text: t(k) }), el('dd', { text: v })])),
  );
  if (ev.evidence?.length) {
    // One hash per stored piece (the legacy SDO, or Sign API v2 result documents and packages).
    const hashes = ev.evidence.flatMap((e) => [
      el('dt', { text: `${t('result.sha256')} (${e.kind})` }), el('dd', { class: 'hash', text: e.sha256 })]);
    result.append(
      el('p', { class: 'evidence' }, el('span', { class: 'badge ok', text: t('flow.evidence_saved') })),
      el('dl', {},
        el('dt', { text: t('result.signed_text') }), el('dd', { class: 'signed-text', text: signedText ?? '' }),
        ...hashes),
      el('button', {
        class: 'export', text: t('flow.export'),
        onclick: async (e) => {
          try {
            // Rust opens the OS folder picker; null when staff close it (the button stays).
            const path = await call('export_evidence', { id: ev.flow_id });
            if (path) e.target.replaceWith(el('p', { class: 'hint exported', text: `${t('flow.exported')} ${path}` }));
          } catch (err) { e.target.replaceWith(el('p', { class: 'form-error', text: err.message })); }
        },
      }));
  }
  result.hidden = false;
}

function tickCountdowns() {
  const now = Date.now();
  for (const { node, expiresAt } of cards.values()) {
    if (!expiresAt) continue;
    const s = Math.max(0, Math.round((expiresAt.getTime() - now) / 1000));
    $('.countdown', node).textContent = `${t('flow.expires_in')} ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }
}
