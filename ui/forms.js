// The Identify and Consent signature forms: method choice, identity fields validated as you type
// (by the engine's own rules, through `validate_input`), and start.
import { call } from './ipc.js';
import { $, el, debounce } from './dom.js';
import { t } from './i18n.js';
import { FIELDS, fieldLabelKey, identifyGroups, methodLabel, methodSpec, methodsFor, rawMethod } from './methods.js';

/** Builds one form. `kind` is 'auth' or 'sign'; `app()` returns the current app info;
 * `onStarted(flowId, method)` is called on success. */
export function mountForm({ kind, form, methodsBox, fieldsBox, errorBox, getText, onStarted, app }) {
  let method = null;
  const values = {};
  // The last screen-pop's claim about who called (`inbound`/`outbound`), until the next send.
  let claim = null;
  // Signing by link may carry a PDF staff picked: read here, sent (base64) only on submit, checked
  // for type and size by the engine before anything reaches Signicat.
  let pdf = null;
  const pdfField = form.querySelector('#sign-pdf-field');
  const pdfInput = form.querySelector('#sign-pdf');
  pdfInput?.addEventListener('change', async () => {
    clearFieldError('pdf');
    const file = pdfInput.files?.[0];
    pdf = file ? base64(new Uint8Array(await file.arrayBuffer())) : null;
  });

  function methodOption(id, retired) {
    const [label, sub] = methodLabel(id);
    const note = retired
      ? el('small', { class: 'retired-note', text: `${t('retired.since')} ${retired.retired_since}; ${t('retired.instead')} ${retired.instead.map((m) => t(`method.${m}`)).join(', ')}` })
      : '';
    return el('label', { class: retired ? 'method retired' : 'method' },
      el('input', {
        type: 'radio', name: `${kind}-method`, value: id, checked: id === method,
        onchange: () => { method = id; renderFields(); },
      }),
      el('span', {}, t(label), el('small', { text: t(sub) }), note));
  }

  // Identify groups its methods by where the customer is; the signing screen lists them.
  function renderMethods() {
    methodsBox.querySelectorAll('.method, .method-group').forEach((n) => n.remove());
    const profile = app().profile;
    const ids = methodsFor(kind, profile);
    if (!ids.includes(method)) method = ids[0];
    // Nothing to offer (a profile without this kind, or a policy that allows none of it): say so.
    if (!method) {
      methodsBox.append(el('p', { class: 'hint method', 'data-no-methods': '', text: t('methods.none') }));
      form.querySelector('button[type="submit"]').hidden = true;
      fieldsBox.replaceChildren();
      return;
    }
    form.querySelector('button[type="submit"]').hidden = false;
    const retired = new Map((profile.retired_methods ?? []).map((r) => [r.id, r]));
    if (kind === 'auth') {
      for (const g of identifyGroups(profile)) {
        const tiles = g.methods.map((m) => methodOption(m.id, m.retired_since ? m : null));
        if (g.situation === 'legacy') {
          // Practice only: folded away unless one of them is the chosen method.
          methodsBox.append(el('details', { class: 'method-group group-legacy', open: g.methods.some((m) => m.id === method) },
            el('summary', { class: 'group-title', text: t('group.legacy') }),
            el('div', { class: 'group-tiles', role: 'group', 'aria-label': t('group.legacy') }, ...tiles)));
          continue;
        }
        methodsBox.append(el('div', { class: `method-group group-${g.situation}`, role: 'group', 'aria-label': t(`group.${g.situation}`) },
          el('h3', { class: 'group-title', text: t(`group.${g.situation}`) }), ...tiles));
      }
    } else {
      for (const id of ids) methodsBox.append(methodOption(id, retired.get(id)));
    }
    renderFields();
  }

  /**
   * Fills the form from a screen-pop (never sends); `problems` are marked on their fields. The
   * phone system's claim about who called is shown beside the control, which stays unticked:
   * a link anyone can open is no attestation (review N-5).
   */
  function fill({ method: m, nin, call_claim: c, problems }) {
    method = m;
    for (const key of Object.keys(values)) delete values[key];
    if (nin) values.nin = nin;
    claim = c === 'inbound' || c === 'outbound' ? c : null;
    renderMethods();
    for (const p of problems ?? []) showFieldError(p.field, p.message);
    // Keystrokes meant for another field of the desk are not moved into this one.
    const active = document.activeElement;
    if (!active || active === document.body) form.querySelector('[name="nin"]')?.focus();
  }

  // What the phone system said about the call, under the control staff set themselves.
  const claimNote = () => (claim
    ? el('small', { class: 'hint claim', 'data-claim': claim, text: t(`screen_pop.claim.${claim}`) })
    : '');

  const dirty = () => Object.values(values).some((v) => v !== undefined && v !== '');

  // The redirect flow happens on this screen, not on the customer's phone: say so on the button.
  function renderStartButton() {
    if (kind !== 'auth') return;
    const here = method.startsWith('redirect:');
    const button = form.querySelector('button[type="submit"]');
    const hint = form.querySelector('button[type="submit"] + .hint');
    for (const [node, key] of [[button, here ? 'identify.start_redirect' : 'identify.start'], [hint, here ? 'identify.hint_redirect' : 'identify.hint']]) {
      if (!node) continue;
      node.dataset.i18n = key;
      node.textContent = t(key);
    }
  }

  function renderFields() {
    renderStartButton();
    if (pdfField) pdfField.hidden = !method.startsWith('sign-link:');
    fieldsBox.replaceChildren();
    for (const f of methodSpec(method, app().profile).fields) {
      const spec = FIELDS[f];
      if (spec.choices) { fieldsBox.append(choiceField(f, spec)); continue; }
      if (spec.check) { fieldsBox.append(checkField(f, spec)); continue; }
      if (spec.intentions) { const box = intentionField(f, spec); if (box) fieldsBox.append(box); continue; }
      const input = el('input', {
        name: spec.key, id: `${kind}-${spec.key}`, inputmode: spec.inputmode, autocomplete: spec.autocomplete,
        placeholder: spec.placeholder || t(`field.${f}.placeholder`), spellcheck: 'false', value: values[spec.key] ?? '',
      });
      input.addEventListener('input', () => { values[spec.key] = input.value; validateSoon(spec.key); });
      fieldsBox.append(el('label', { class: 'field' },
        el('span', { text: t(fieldLabelKey(f, app().profile)) }), input,
        spec.scanner ? el('small', { class: 'hint', text: t(`field.${f}.hint`) }) : '',
        el('small', { class: 'field-error', 'data-error-for': spec.key, hidden: true })));
    }
  }

  // A confirmation staff must tick (the customer called us): sets `key` to `spec.check`.
  function checkField(f, spec) {
    const box = el('input', {
      type: 'checkbox', name: spec.key, value: spec.check, checked: values[spec.key] === spec.check,
      onchange: () => { values[spec.key] = box.checked ? spec.check : ''; clearFieldError(spec.key); },
    });
    return el('div', { class: 'field check' },
      el('label', { class: 'choice' }, box, el('span', { text: t(`field.${f}`) })),
      el('small', { class: 'hint', text: t(`field.${f}.hint`) }), claimNote(),
      el('small', { class: 'field-error', 'data-error-for': spec.key, hidden: true }));
  }

  // The profile's intention texts: one is picked (or none) and shown in full before sending.
  function intentionField(f, spec) {
    const texts = app().profile.sbid_intentions ?? [];
    if (!texts.length) return null;
    const preview = el('blockquote', { class: 'intention-preview', 'aria-live': 'polite' });
    const show = () => {
      preview.replaceChildren(...(values[spec.key] ? [el('small', { text: t('field.intention.preview') }), el('p', { text: values[spec.key] })] : []));
    };
    const select = el('select', {
      name: spec.key, id: `${kind}-${spec.key}`,
      onchange: () => { values[spec.key] = texts[Number(select.value)]?.text ?? ''; show(); clearFieldError(spec.key); },
    }, el('option', { value: '', text: t('field.intention.none') }),
    ...texts.map((x, i) => el('option', { value: String(i), text: x.name, selected: values[spec.key] === x.text })));
    show();
    return el('label', { class: 'field' }, el('span', { text: t(`field.${f}`) }), select, preview,
      el('small', { class: 'field-error', 'data-error-for': spec.key, hidden: true }));
  }

  // A required choice (who called whom): radio buttons, none preselected.
  function choiceField(f, spec) {
    const options = spec.choices.map((c) => el('label', { class: 'choice' },
      el('input', {
        type: 'radio', name: spec.key, value: c, checked: values[spec.key] === c,
        onchange: () => { values[spec.key] = c; clearFieldError(spec.key); },
      }),
      el('span', { text: t(`field.${f}.${c}`) })));
    return el('fieldset', { class: 'field choices' },
      el('legend', { text: t(`field.${f}`) }), ...options, claimNote(),
      el('small', { class: 'field-error', 'data-error-for': spec.key, hidden: true }));
  }

  function rawInput() {
    const raw = rawMethod(method);
    for (const f of methodSpec(method, app().profile).fields) {
      const key = FIELDS[f].key;
      const v = (values[key] ?? '').trim();
      if (v !== '') raw[key] = v;
    }
    if (kind === 'sign') raw.text = getText();
    return raw;
  }

  function submitInput() {
    const raw = rawInput();
    if (pdf && method.startsWith('sign-link:')) raw.pdf_base64 = pdf;
    return raw;
  }

  function showFieldError(field, message) {
    for (const small of form.querySelectorAll('[data-error-for]')) {
      const mine = small.dataset.errorFor === field;
      const input = form.querySelector(`[name="${small.dataset.errorFor}"]`);
      if (mine) {
        small.textContent = message; small.hidden = false;
        input?.setAttribute('aria-invalid', 'true'); input?.removeAttribute('data-valid');
      }
    }
  }

  function clearFieldError(field) {
    const small = form.querySelector(`[data-error-for="${field}"]`);
    const input = form.querySelector(`[name="${field}"]`);
    if (small) small.hidden = true;
    input?.removeAttribute('aria-invalid');
  }

  // As you type: only complain about the field being edited, and only once it looks finished
  // enough to judge; the full check runs on submit.
  const validateSoon = debounce(async (field) => {
    if (!method) return;
    const raw = rawInput();
    const value = raw[field] ?? '';
    clearFieldError(field);
    if (value === '') return;
    const errors = await call('validate_input', { input: raw });
    const mine = errors.find((e) => e.field === field);
    const input = form.querySelector(`[name="${field}"]`);
    if (mine) {
      if (value.replace(/\D/g, '').length >= 6 || field === 'text') showFieldError(field, mine.message);
      input?.removeAttribute('data-valid');
    } else input?.setAttribute('data-valid', 'true');
  }, 180);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!method) return;
    errorBox.hidden = true;
    form.querySelectorAll('[data-error-for]').forEach((n) => { n.hidden = true; });
    // A field corrected right before another was typed in (one shared debounce) must not stay red.
    form.querySelectorAll('[aria-invalid]').forEach((n) => n.removeAttribute('aria-invalid'));
    const raw = submitInput();
    let errors = await call('validate_input', { input: raw });
    // A retry in the same call: only after the customer said they want to try again
    // (`retry_confirmed`); one the rules refuse (`retry`) is shown, not asked about.
    if (errors[0]?.field === 'retry_confirmed') {
      if (!window.confirm(`${errors[0].message}\n\n${t('flow.retry_confirm')}`)) return;
      raw.retry_confirmed = true;
      errors = await call('validate_input', { input: raw });
    }
    if (errors[0]?.field === 'retry' || errors[0]?.field === 'retry_confirmed') {
      errorBox.textContent = errors[0].message; errorBox.hidden = false;
      return;
    }
    if (errors.length) {
      for (const e of errors) showFieldError(e.field, e.message);
      form.querySelector(`[name="${errors[0].field}"]`)?.focus();
      return;
    }
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const flowId = await startWithConfirm(raw);
      if (flowId) {
        // Each call is asked anew, and a PDF goes with one signature only.
        delete values.call_initiator;
        form.querySelectorAll('input[name="call_initiator"]').forEach((r) => { r.checked = false; });
        claim = null;
        form.querySelectorAll('.claim').forEach((n) => n.remove());
        // A scanned ID card code is used once.
        delete values.qr_data;
        const scanned = form.querySelector('input[name="qr_data"]');
        if (scanned) scanned.value = '';
        pdf = null;
        if (pdfInput) pdfInput.value = '';
        onStarted(flowId, method);
        // At the counter the next customer's card is scanned into the same field: focus stays.
        if (scanned) scanned.focus();
      }
    } catch (e) {
      if (e.field && form.querySelector(`[data-error-for="${e.field}"]`)) showFieldError(e.field, e.message);
      else { errorBox.textContent = e.message; errorBox.hidden = false; }
    } finally {
      button.disabled = false;
    }
  });

  async function startWithConfirm(raw) {
    try {
      return await call('start_flow', { input: raw });
    } catch (e) {
      if (e.code !== 'already_running' || !e.flow_id) throw e;
      if (!window.confirm(t('flow.already_running'))) return null;
      await call('cancel_flow', { flowId: e.flow_id });
      try {
        return await call('start_flow', { input: raw });
      } catch (again) {
        // The cancelled order reached the customer's phone: sending again is a retry.
        if (again.field !== 'retry_confirmed') throw again;
        if (!window.confirm(`${again.message}\n\n${t('flow.retry_confirm')}`)) return null;
        return call('start_flow', { input: { ...raw, retry_confirmed: true } });
      }
    }
  }

  renderMethods();
  return {
    refresh: renderMethods, validateText: () => validateSoon('text'), fill, dirty,
    // The identity field has focus when the screen opens, so an agent can type at once.
    focus: () => fieldsBox.querySelector('input:not([type="radio"]):not([type="checkbox"]), select')?.focus(),
  };
}

/** Fills a sign text template's `{placeholders}` from the inputs built for it. */
export function mountTemplates({ select, placeholdersBox, textArea, counter, templates, onChange }) {
  const custom = { name: t('sign.custom'), text: '' };
  const all = [...templates, custom];
  select.replaceChildren(...all.map((tpl, i) => el('option', { value: String(i), text: tpl.name })));
  const values = {};

  function apply() {
    const tpl = all[Number(select.value)] ?? custom;
    if (tpl === custom) { placeholdersBox.replaceChildren(); return; }
    let text = tpl.text;
    for (const [k, v] of Object.entries(values)) text = text.replaceAll(`{${k}}`, v || `{${k}}`);
    textArea.value = text;
    updateCounter();
    onChange();
  }

  function updateCounter() { counter.textContent = `${[...textArea.value].length} / 1000`; }

  function renderPlaceholders() {
    const tpl = all[Number(select.value)] ?? custom;
    const names = [...new Set([...tpl.text.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]))];
    placeholdersBox.replaceChildren(...names.map((n) => {
      const input = el('input', { 'data-placeholder': n, value: values[n] ?? '' });
      input.addEventListener('input', () => { values[n] = input.value; apply(); });
      return el('label', { class: 'field' }, el('span', { text: n }), input);
    }));
    apply();
  }

  select.addEventListener('change', renderPlaceholders);
  textArea.addEventListener('input', () => { updateCounter(); onChange(); });
  renderPlaceholders();
  return { text: () => textArea.value };
}

function base64(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export { $ };
