// ID Desk window: boots from `app_info`, then wires the screens.
import { call, on } from './ipc.js';
import { $, $$ } from './dom.js';
import { setLang, t } from './i18n.js';
import { mountForm, mountTemplates } from './forms.js';
import { mountFlows, track } from './flows.js';
import { mountHistory } from './history.js';
import { mountSettings, showPolicy } from './settings.js';
import { mountPhone } from './phone.js';
import { mountCustomerDisplay, refreshCustomerDisplay } from './customer-display.js';

// Both boot reads go out together: each IPC round trip before `window_ready` is start-up time.
const displayStatus = call('customer_display_status');
let app;
try {
  app = await call('app_info');
} catch (e) {
  // The desk did not open (a broken active profile, a vault whose key is gone): say why, in
  // place of the desk, and stop here. Nothing below may run without a desk.
  showStartupError(e);
  throw e;
}

function showStartupError(e) {
  document.body.classList.add('startup-failed');
  $('#startup-error-title').textContent = t('startup.failed');
  $('#startup-error-message').textContent = e?.message ?? String(e);
  $('#startup-error-field').textContent = e?.field ? `${t('startup.field')}: ${e.field}` : '';
  const box = $('#startup-error');
  box.hidden = false;
  box.focus();
  document.body.dataset.ready = 'failed';
}
let forms = [];
let history;

function applyPreferences({ lang, theme }) {
  document.body.dataset.theme = theme === 'dark' ? 'dark' : 'light';
  setLang(lang);
  $('#training-banner').textContent = t('training.banner');
  forms.forEach((f) => f.refresh());
  refreshCustomerDisplay();
  showPolicy(app.policy);
}

function showScreen(name) {
  for (const tab of $$('.tabs [role="tab"]')) {
    const on = tab.dataset.screen === name;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`#screen-${tab.dataset.screen}`).hidden = !on;
  }
  if (name === 'history') history.refresh();
  if (name === 'identify') identifyForm?.focus();
}

// Screen-pop from the phone system: the Identify form is filled in, never sent. A form staff
// have typed in is replaced only when they agree.
async function takeScreenPop() {
  let pop;
  try { pop = await call('take_screen_pop'); } catch (e) { $('#identify-error').textContent = e.message; $('#identify-error').hidden = false; return; }
  if (!pop) return;
  if (identifyForm.dirty() && !window.confirm(t('screen_pop.replace'))) return;
  showScreen('identify');
  identifyForm.fill(pop);
  const note = $('#identify-note');
  note.textContent = pop.replaced > 0 ? `${t('screen_pop.filled')} ${t('screen_pop.replaced')}` : t('screen_pop.filled');
  note.hidden = false;
}

function mountTabs() {
  const tabs = $$('.tabs [role="tab"]');
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => showScreen(tab.dataset.screen));
    tab.addEventListener('keydown', (e) => {
      const d = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
      if (!d) return;
      const next = tabs[(i + d + tabs.length) % tabs.length];
      next.focus();
      showScreen(next.dataset.screen);
    });
  });
  // Alt+1..4 switch screens from anywhere.
  document.addEventListener('keydown', (e) => {
    if (e.altKey && e.key >= '1' && e.key <= '4') { e.preventDefault(); tabs[Number(e.key) - 1].click(); tabs[Number(e.key) - 1].focus(); }
  });
}

function showProfile() {
  $('#profile-chip').textContent = app.profile.name;
  $('#training-banner').hidden = !app.training;
}

mountTabs();
mountFlows();
history = mountHistory({ activeProfile: () => app.profile?.name });
let signForm;

const identifyForm = mountForm({
  kind: 'auth', app: () => app, form: $('#identify-form'), methodsBox: $('#identify-methods'),
  fieldsBox: $('#identify-fields'), errorBox: $('#identify-error'),
  onStarted: (id, method) => track(id, method),
});
forms.push(identifyForm);
const templates = mountTemplates({
  select: $('#sign-template'), placeholdersBox: $('#sign-placeholders'), textArea: $('#sign-text'),
  counter: $('#sign-counter'), templates: app.templates ?? [], onChange: () => signForm?.validateText(),
});
signForm = mountForm({
  kind: 'sign', app: () => app, form: $('#sign-form'), methodsBox: $('#sign-methods'),
  fieldsBox: $('#sign-fields'), errorBox: $('#sign-error'), getText: () => templates.text(),
  onStarted: (id, method) => track(id, method, templates.text()),
});
forms.push(signForm);

const settings = mountSettings(app, {
  onPreferences: applyPreferences,
  onProfileChanged: async () => { app = await call('app_info'); showProfile(); forms.forEach((f) => f.refresh()); settings.refresh(); },
});
settings.refresh().catch(() => {});

showProfile();
applyPreferences({ lang: app.lang, theme: app.theme });
if (app.training) mountPhone();
await mountCustomerDisplay(displayStatus, app.policy?.customer_display !== false);
showScreen('identify');
on('desk://screen-pop', () => { takeScreenPop(); });
await takeScreenPop();
document.body.dataset.ready = 'true';
call('window_ready').catch(() => {});
