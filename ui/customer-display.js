// Staff side of the customer display: Settings → "Customer display" (open/close, merchant name) and
// the "Show on customer display" button of each running flow. The display window itself is
// ui/display.html; what it shows is decided in Rust (`display://status` tells us which flow).
import { call, on } from './ipc.js';
import { $, $$ } from './dom.js';
import { t } from './i18n.js';

let status = { open: false, merchant: '', flow_id: null };

/** `first`: the pending `customer_display_status` answer, asked for while the page booted. */
export async function mountCustomerDisplay(first, allowed = true) {
  const toggle = $('#display-toggle');
  // Policy says no: the button stays, disabled, with the reason beside it.
  toggle.disabled = !allowed;
  $('#display-policy').hidden = allowed;
  const error = $('#display-error');
  const fail = (e) => { error.textContent = e.message; error.hidden = false; };
  toggle.addEventListener('click', async () => {
    error.hidden = true;
    toggle.disabled = true;
    try { render(await call(status.open ? 'close_customer_display' : 'open_customer_display')); } catch (e) { fail(e); }
    toggle.disabled = !allowed;
  });
  const save = async () => {
    error.hidden = true;
    try { await call('set_display_merchant', { merchant: $('#display-merchant').value }); } catch (e) { fail(e); }
  };
  $('#display-merchant-save').addEventListener('click', save);
  $('#display-merchant').addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); save(); } });
  // Delegated: flow cards come and go.
  $('#flows').addEventListener('click', async (e) => {
    const button = e.target.closest('.show-on-display');
    if (!button) return;
    try { render(await call('show_on_customer_display', { flowId: button.closest('.flow-card').dataset.flowId })); } catch (err) { button.title = err.message; }
  });
  on('display://status', render);
  // New cards appear after the status that selected them: mark them as they arrive.
  new MutationObserver(() => markCards()).observe($('#flows'), { childList: true, subtree: true, attributes: true, attributeFilter: ['data-state'] });
  const status0 = await first;
  $('#display-merchant').value = status0.merchant;
  render(status0);
}

/** Redraws texts in the staff language. */
export function refreshCustomerDisplay() { render(status); }

function render(next) {
  status = next;
  $('#display-toggle').textContent = t(status.open ? 'display.close' : 'display.open');
  $('#display-state').textContent = t(status.open ? 'display.is_open' : 'display.is_closed');
  document.body.dataset.customerDisplay = status.open ? 'open' : 'closed';
  markCards();
}

function markCards() {
  for (const card of $$('.flow-card')) {
    const shown = status.open && card.dataset.flowId === status.flow_id;
    const running = card.dataset.state === 'running';
    const button = $('.show-on-display', card);
    const badge = $('.on-display', card);
    if (card.dataset.onDisplay !== String(shown)) card.dataset.onDisplay = String(shown);
    if (button.hidden !== (!status.open || shown || !running)) button.hidden = !status.open || shown || !running;
    if (badge.hidden !== !shown) badge.hidden = !shown;
  }
}
