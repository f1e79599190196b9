// Training mode's "customer phone": acts as the customer's BankID app through the simulator's
// control API (in-process, via Rust commands).
import { call, on } from './ipc.js';
import { $, el } from './dom.js';
import { t } from './i18n.js';

const TERMINAL = new Set(['succeeded', 'signed', 'failed', 'cancelled', 'expired']);

export function mountPhone() {
  $('#phone').hidden = false;
  mountIdCard();
  const refresh = async () => {
    try { render(await call('sim_sessions')); } catch { /* the simulator stops with the app */ }
  };
  // Only this desk's flows reach the phone, so it polls while one of them runs and rests otherwise.
  const running = new Set();
  let timer = null;
  on('flow://event', (ev) => {
    if (TERMINAL.has(ev.type)) running.delete(ev.flow_id); else running.add(ev.flow_id);
    if (running.size && !timer) timer = setInterval(refresh, 600);
    if (!running.size && timer) { clearInterval(timer); timer = null; }
    refresh();
  });
  refresh();
}

let lastKey = '';

function render(sessions) {
  const open = sessions.filter((s) => s.pending);
  const key = JSON.stringify(open.map((s) => [s.id, s.status, s.scanned]));
  if (key === lastKey) return; // keep focus and clicks stable while nothing changes
  lastKey = key;
  const box = $('#phone-sessions');
  if (!open.length) { box.replaceChildren(el('p', { class: 'empty', text: t('phone.none') })); return; }
  box.replaceChildren(...open.map((s) => {
    const act = (action, text) => async (e) => {
      e.target.disabled = true;
      try { await call('sim_act', { id: s.id, action, text: text ?? null }); } catch (err) { e.target.title = err.message; }
      lastKey = '';
    };
    const buttons = [];
    if (s.needs_scan) buttons.push(el('button', { class: 'sim-scan', onclick: act('scan'), text: t('phone.scan') }));
    const choices = (s.binding_choices ?? []).map((c) => el('button', { class: 'sim-pick', 'data-text': c, onclick: act('pick', c), text: c }));
    if (s.asks_about_call) {
      // Swedish BankID Phone: the app asks whether the customer is in a call with us.
      buttons.push(el('button', { class: 'sim-approve primary', onclick: act('approve'), text: t('phone.confirm_call') }));
      buttons.push(el('button', { class: 'sim-decline danger', onclick: act('decline'), text: t('phone.decline_call') }));
    } else if (!s.needs_scan && !choices.length) buttons.push(el('button', { class: 'sim-approve primary', onclick: act('approve'), text: t('phone.approve') }));
    buttons.push(el('button', { class: 'sim-reject danger', onclick: act('reject'), text: t('phone.reject') }));
    return el('div', { class: 'phone-session', 'data-sim-id': s.id },
      el('strong', { text: s.title ?? s.method }),
      el('div', { class: 'hint', text: `${s.identity ?? ''} · ${s.status}` }),
      s.intention ? el('blockquote', { class: 'intention-preview', text: s.intention }) : '',
      choices.length ? el('div', {}, el('div', { class: 'hint', text: t('phone.pick') }), el('div', { class: 'choices' }, choices)) : '',
      el('div', { class: 'row' }, buttons));
  }));
}

// The customer's BankID app showing its digital ID card: a fresh payload from the simulator, and
// "Scan into the form" typing it into the Identify form's field as a USB barcode scanner would.
function mountIdCard() {
  const form = $('#phone-idcard');
  const code = $('#phone-idcard-code');
  const scan = $('#phone-idcard-scan');
  const error = $('#phone-idcard-error');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    try {
      code.textContent = await call('sim_idcard', { nin: $('#phone-idcard-nin').value.trim() });
      code.hidden = false; scan.hidden = false;
    } catch (err) { error.textContent = err.message; error.hidden = false; }
  });
  scan.addEventListener('click', () => {
    const field = document.querySelector('#identify-form input[name="qr_data"]');
    if (!field) return;
    field.focus();
    field.value = code.textContent;
    field.dispatchEvent(new Event('input', { bubbles: true }));
  });
}
