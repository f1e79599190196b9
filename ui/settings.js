// Settings: language, theme, profiles (Test connection) and write-only API secrets.
import { call } from './ipc.js';
import { $, el } from './dom.js';
import { t } from './i18n.js';

const SECRET_NAMES = ['rest-client-secret', 'oidc-client-secret', 'sign-client-secret', 'archive-password'];

export function mountSettings(app, { onPreferences, onProfileChanged }) {
  const langSel = $('#settings-lang');
  const themeSel = $('#settings-theme');
  langSel.value = app.lang;
  themeSel.value = app.theme;
  const savePrefs = async () => {
    const prefs = { lang: langSel.value, theme: themeSel.value };
    await call('set_preferences', { prefs }).catch(() => {});
    onPreferences(prefs);
  };
  langSel.addEventListener('change', savePrefs);
  themeSel.addEventListener('change', savePrefs);

  const profileSel = $('#settings-profile');
  profileSel.addEventListener('change', () => showProfile(profileSel.value));
  $('#profile-activate').addEventListener('click', async () => {
    try { await call('activate_profile', { name: profileSel.value }); onProfileChanged(); } catch (e) { showChecks([{ step: 'profile', ok: false, message: e.message }]); }
  });
  $('#profile-check').addEventListener('click', async (e) => {
    e.target.disabled = true;
    $('#profile-checks').replaceChildren(el('li', { class: 'hint', text: '…' }));
    try { showChecks(await call('check_profile', { name: profileSel.value })); } catch (err) { showChecks([{ step: 'profile', ok: false, message: err.message }]); }
    e.target.disabled = false;
  });

  let profiles = [];
  async function refresh() {
    const list = await call('list_profiles');
    profiles = list.profiles;
    profileSel.replaceChildren(...profiles.map((p) => el('option', {
      value: p.name,
      text: [p.name, p.managed ? `[${t('settings.managed_short')}]` : '', p.name === list.active ? `(${t('settings.active')})` : '']
        .filter(Boolean).join(' '),
    })));
    profileSel.value = list.active;
    showProfile(list.active);
  }

  async function showProfile(name) {
    const p = profiles.find((x) => x.name === name);
    if (!p) return;
    const rows = [
      ['REST', p.rest_base_url], ['Account', p.account_id], ['REST client', p.rest_client_id],
      ['OIDC issuer', p.oidc_issuer], ['OIDC client', p.oidc_client_id], ['Sign client', p.sign_client_id],
      ['redirect_uri', p.redirect_uri], ['Test identities', p.allow_test_identities ? 'allowed' : 'refused'],
    ].filter(([, v]) => v !== undefined && v !== null && v !== '');
    $('#profile-details').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v) })]));
    $('#profile-managed').hidden = !p.managed;
    $('#profile-checks').replaceChildren();
    await renderSecrets(p);
  }

  async function renderSecrets(p) {
    const box = $('#secrets-list');
    const err = $('#secrets-error');
    err.hidden = true;
    if (p.training) { box.replaceChildren(el('p', { class: 'hint', text: t('settings.training_secrets') })); return; }
    let status = [];
    try { status = await call('secret_status', { profile: p.name }); } catch (e) { err.textContent = e.message; err.hidden = false; }
    const names = p.ciba_secret ? [...SECRET_NAMES, p.ciba_secret] : SECRET_NAMES;
    box.replaceChildren(...names.map((name) => {
      const stored = status.find((s) => s.name === name)?.stored ?? false;
      // A PEM key has line breaks, which a password input would drop: write-only textarea.
      const input = name === 'ciba-private-key'
        ? el('textarea', { class: 'secret-pem', autocomplete: 'off', spellcheck: 'false', 'data-secret': name, placeholder: '-----BEGIN PRIVATE KEY-----' })
        : el('input', { type: 'password', autocomplete: 'off', 'data-secret': name, placeholder: t('settings.new_value') });
      const act = (fn) => async () => {
        err.hidden = true;
        try { await fn(); input.value = ''; await renderSecrets(p); } catch (e) { err.textContent = e.message; err.hidden = false; }
      };
      return el('div', { class: 'secret-row', 'data-secret-row': name },
        el('span', { text: t(`secret.${name}`) }),
        el('span', { class: `badge ${stored ? 'ok' : ''}`, 'data-secret-status': name, text: t(stored ? 'settings.stored' : 'settings.not_stored') }),
        input,
        el('button', { 'data-secret-save': name, onclick: act(() => call('set_secret', { profile: p.name, name, value: input.value })), text: t('settings.save') }),
        el('button', { class: 'danger', 'data-secret-delete': name, disabled: !stored, onclick: act(() => call('delete_secret', { profile: p.name, name })), text: t('settings.delete') }));
    }));
  }

  function showChecks(steps) {
    $('#profile-checks').replaceChildren(...steps.map((s) => el('li', {},
      el('span', { class: `badge ${s.ok ? 'ok' : 'bad'}`, text: s.ok ? 'OK' : '✕' }), ' ',
      `${s.step}${s.ms !== undefined && s.ms !== null ? ` — ${s.ms} ms` : ''}${s.message ? ` — ${s.message}` : ''}`)));
  }

  showPolicy(app.policy);
  return { refresh };
}

/** The IT department's policy, when there is one: what it decides, in the staff's language. */
export function showPolicy(policy) {
  const card = $('#policy');
  card.hidden = !policy?.file;
  if (card.hidden) return;
  const onOff = (v) => t(v ? 'policy.allowed' : 'policy.off');
  const r = policy.retention;
  const rows = [
    ['policy.branch', policy.branch],
    ['policy.training', onOff(policy.training)],
    ['policy.archive_required', t(policy.archive_required ? 'policy.yes' : 'policy.no')],
    ['policy.customer_display', onOff(policy.customer_display)],
    ['policy.methods', policy.methods ? policy.methods.map((m) => t(`method.${m}`)).join(', ') : t('policy.all')],
    ['policy.sign_setups', policy.sign_setups ? policy.sign_setups.join(', ') : t('policy.all')],
    ['policy.retention', r && t('policy.retention_days').replace('{a}', r.after_archive_days)
      .replace('{w}', r.without_archive_days).replace('{u}', r.unsuccessful_days)],
    ['policy.log_format', policy.log_format],
    ['policy.file', policy.file],
  ].filter(([, v]) => v !== undefined && v !== null && v !== '');
  $('#policy-details').replaceChildren(...rows.flatMap(([k, v]) => [
    el('dt', { text: t(k) }), el('dd', { 'data-policy': k.slice(7), text: String(v) })]));
}
