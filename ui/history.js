// History: transactions from the evidence vault, interrupted ones highlighted, SDO verify/export,
// and each row's copy in the central archive ("Archived ✓ / waiting (n)") when there is one.
import { call } from './ipc.js';
import { $, el, formatTime } from './dom.js';
import { t } from './i18n.js';

const OUTCOME_CLASS = { succeeded: 'ok', signed: 'ok', failed: 'bad', expired: 'bad', aborted: 'warn', cancelled: '', interrupted: 'warn', evidence_pending: 'warn', running: '' };

// The active profile's name (rows owed to another profile's archive are marked as such).
let activeProfile = () => undefined;

export function mountHistory(opts = {}) {
  if (opts.activeProfile) activeProfile = opts.activeProfile;
  $('#history-refresh').addEventListener('click', refresh);
  $('#history-kind').addEventListener('change', refresh);
  $('#history-status').addEventListener('change', refresh);
  $('#history-staff').addEventListener('change', refresh);
  return { refresh };
}

export async function refresh() {
  const body = $('#history-table tbody');
  let rows = [];
  try {
    rows = await call('list_history', {
      kind: $('#history-kind').value || null, status: $('#history-status').value || null,
      staff: $('#history-staff').value.trim() || null, limit: 200,
    });
  } catch (e) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: 8, class: 'form-error', text: e.message })));
    return;
  }
  $('#history-empty').hidden = rows.length > 0;
  $('#history-table').classList.toggle('no-archive', !rows.some((r) => r.archive));
  body.replaceChildren(...rows.map(row));
}

function row(r) {
  if (r.unreadable) return unreadableRow(r);
  // The legacy SDO, or every Sign API v2 piece (XAdES, PAdES, LTV-SDO, ...), each with its hash.
  const pieces = r.sdo ? [{ kind: 'ltv_sdo', sha256: r.sdo.sha256 }] : (r.evidence ?? []);
  const evidence = pieces.length
    ? el('div', { class: 'row' },
      ...pieces.map((p) => el('span', { class: 'hash', 'data-kind': p.kind, title: p.sha256, text: `${p.sha256.slice(0, 12)}…` })),
      el('button', { class: 'verify', onclick: (e) => verify(r.id, e.target) , text: t('history.verify') }),
      el('button', { class: 'export', onclick: (e) => exportSdo(r.id, e.target), text: t('history.export') }))
    : '';
  return el('tr', { 'data-status': r.status, 'data-id': r.id },
    el('td', { text: formatTime(r.created_at) }),
    el('td', { text: t(`kind.${r.kind}`) }),
    el('td', { text: t(`method.${r.method}`) }),
    el('td', { text: [r.subject_name, r.identity_masked].filter(Boolean).join(' · ') }),
    el('td', {}, el('span', { class: `badge ${OUTCOME_CLASS[r.status] ?? ''}`, text: t(`status.${r.status}`) }),
      r.message ? el('div', { class: 'hint', text: r.message }) : ''),
    // Who did it, on which PC (and branch); the version on hover. Empty on rows from before.
    el('td', { class: 'staff', title: r.app_version ? `ID Desk ${r.app_version}` : '' },
      el('div', { text: r.staff_user ?? '' }),
      el('div', { class: 'hint', text: [r.desk_host, r.branch].filter(Boolean).join(' · ') })),
    el('td', {}, evidence),
    el('td', { class: 'archive-col' }, archiveMark(r.archive, activeProfile())));
}

// A vault row this desk cannot read (written by a newer version, or damaged): shown, never hidden,
// with the reason; the other rows are unaffected.
function unreadableRow(r) {
  return el('tr', { 'data-status': 'unreadable', 'data-id': r.id },
    el('td', { text: r.created_at ? formatTime(r.created_at) : '' }),
    el('td', { colspan: 3, text: r.id }),
    el('td', {}, el('span', { class: 'badge bad', text: t('history.unreadable') }),
      el('div', { class: 'hint', text: r.unreadable })),
    el('td', {}), el('td', {}), el('td', { class: 'archive-col' }));
}

// `{state: 'archived', at}` or `{state: 'waiting', attempts, last_error?, owed_to?}` from the
// vault's outbox. A row owed to another profile's archive goes nowhere else: say which.
function archiveMark(mark, activeProfile) {
  if (!mark) return '';
  if (mark.state === 'archived') {
    return el('span', { class: 'badge ok archive', title: formatTime(mark.at), text: t('history.archived') });
  }
  const elsewhere = mark.owed_to && mark.owed_to !== activeProfile;
  return el('span', {
    class: `badge ${mark.last_error || elsewhere ? 'warn' : ''} archive`,
    title: elsewhere ? t('history.owed_to').replaceAll('{p}', mark.owed_to) : (mark.last_error ?? ''),
    text: elsewhere ? `${t('history.waiting')}: ${mark.owed_to}` : `${t('history.waiting')} (${mark.attempts})`,
  });
}

async function verify(id, button) {
  try {
    const ok = await call('verify_evidence', { id });
    button.replaceWith(el('span', { class: `badge ${ok ? 'ok' : 'bad'}`, text: t(ok ? 'history.verified' : 'history.mismatch') }));
  } catch (e) { button.replaceWith(el('span', { class: 'badge bad', text: e.message })); }
}

async function exportSdo(id, button) {
  try {
    // Rust opens the OS folder picker; null when staff close it (the button stays).
    const path = await call('export_evidence', { id });
    if (path) button.replaceWith(el('span', { class: 'hint exported', text: `${t('flow.exported')} ${path}` }));
  } catch (e) { button.replaceWith(el('span', { class: 'badge bad', text: e.message })); }
}
