// What each method needs from the agent. The engine validates again before any request.
export const METHODS = {
  // Sign API v2 (what production accepts today) first; the legacy Consent Signature after it.
  sign_sbid_phone: { kind: 'sign', family: 'sign', fields: ['pnr', 'call_initiator'] },
  nbid_safe_conversation: { kind: 'auth', family: 'rest', fields: ['nin', 'inbound'] },
  sbid_phone: { kind: 'auth', family: 'rest', fields: ['pnr', 'call_initiator', 'intention'] },
  sbid_idcard: { kind: 'auth', family: 'rest', fields: ['qr_data'] },
  nbid_mobile: { kind: 'auth', family: 'rest', fields: ['phone', 'birthdate'] },
  sbid_qr: { kind: 'auth', family: 'rest', fields: ['pnr_optional'] },
  sbid_app_launch: { kind: 'auth', family: 'rest', fields: ['pnr_optional'] },
  nbid_inapp: { kind: 'auth', family: 'oidc', fields: ['phone', 'birthdate'] },
  sbid_inapp: { kind: 'auth', family: 'oidc', fields: ['pnr'] },
  nbid_sign: { kind: 'sign', family: 'oidc', fields: ['phone', 'birthdate'], legacy: true },
  sbid_sign: { kind: 'sign', family: 'oidc', fields: ['pnr'], legacy: true },
  ciba: { kind: 'auth', family: 'ciba', fields: ['login_hint', 'binding_message'] },
};

// The REST redirect flow: one choice per provider of the profile's `[redirect]`, as
// `redirect:<provider>` (the customer types nothing here: they sign in on the provider's page).
const REDIRECT = { kind: 'auth', family: 'rest', fields: [] };
const REDIRECT_PREFIX = 'redirect:';
// Sign API v2 by link: one choice per setup of the profile's `[sign]`, as `sign-link:<provider>`
// (`nbid-pki` or an eID); the customer opens the signing page on their own phone (or here).
const SIGN_LINK = { kind: 'sign', family: 'sign', fields: ['nin_optional'] };
const SIGN_LINK_PREFIX = 'sign-link:';

/** The spec of a method id (a METHODS key, `redirect:<provider>` or `sign-link:<provider>`);
 * `profile` adds what the profile decides (a CIBA provider that runs phone authentication). */
export function methodSpec(id, profile) {
  if (id?.startsWith(REDIRECT_PREFIX)) return REDIRECT;
  if (id?.startsWith(SIGN_LINK_PREFIX)) return SIGN_LINK;
  if (id === 'ciba' && profile?.ciba_phone_auth) return { ...METHODS.ciba, fields: [...METHODS.ciba.fields, 'call_initiator'] };
  return METHODS[id];
}

/** `RawFlowInput`'s method (and provider) for a method id. */
export function rawMethod(id) {
  if (id.startsWith(REDIRECT_PREFIX)) return { method: 'redirect', provider: id.slice(REDIRECT_PREFIX.length) };
  if (id.startsWith(SIGN_LINK_PREFIX)) return { method: 'sign_link', provider: id.slice(SIGN_LINK_PREFIX.length) };
  return { method: id };
}

/** The i18n keys of a method's label and subtitle. */
export function methodLabel(id) {
  if (id?.startsWith(REDIRECT_PREFIX)) return [`provider.${id.slice(REDIRECT_PREFIX.length)}`, 'method.redirect.sub'];
  if (id?.startsWith(SIGN_LINK_PREFIX)) return [`provider.${id.slice(SIGN_LINK_PREFIX.length)}`, 'method.sign_link.sub'];
  return [`method.${id}`, `method.${id}.sub`];
}

// UI field → RawFlowInput key, input hints.
export const FIELDS = {
  nin: { key: 'nin', inputmode: 'numeric', autocomplete: 'off', placeholder: '11 digits' },
  pnr: { key: 'nin', inputmode: 'numeric', autocomplete: 'off', placeholder: 'YYYYMMDD-NNNN' },
  pnr_optional: { key: 'nin', inputmode: 'numeric', autocomplete: 'off', placeholder: 'YYYYMMDD-NNNN', optional: true },
  nin_optional: { key: 'nin', inputmode: 'numeric', autocomplete: 'off', placeholder: '11 or 12 digits', optional: true },
  // Who called whom: staff must choose, there is no default.
  call_initiator: { key: 'call_initiator', choices: ['user', 'rp'] },
  // Safe Conversation: staff confirm the customer contacted us (sent as call_initiator = user).
  inbound: { key: 'call_initiator', check: 'user' },
  // Swedish BankID Phone: one of the profile's intention texts, shown before sending.
  intention: { key: 'intention', intentions: true, optional: true },
  // What the barcode scanner types (it ends with Enter, which submits the form).
  qr_data: { key: 'qr_data', inputmode: 'text', autocomplete: 'off', placeholder: '', scanner: true },
  phone: { key: 'phone', inputmode: 'tel', autocomplete: 'off', placeholder: '+47 999 99 999' },
  birthdate: { key: 'birthdate', inputmode: 'numeric', autocomplete: 'off', placeholder: 'YYYY-MM-DD' },
  login_hint: { key: 'login_hint', inputmode: 'text', autocomplete: 'off', placeholder: '' },
  binding_message: { key: 'binding_message', inputmode: 'text', autocomplete: 'off', placeholder: '', optional: true },
};

/** Identify's methods, grouped by where the customer is (the engine decides: `identify_groups`):
 * `[{ situation, methods: [{ id, retired_since, instead }] }]`. */
export function identifyGroups(profile) {
  return profile.identify_groups ?? [];
}

// The signing methods the active profile can run: Sign API v2 setups first, then the legacy
// Consent Signature (retired in production) only when the profile offers legacy methods.
export function methodsFor(kind, profile) {
  if (kind === 'auth') return identifyGroups(profile).flatMap((g) => g.methods.map((m) => m.id));
  const sign = profile.sign_setups;
  const available = { rest: true, oidc: profile.has_oidc, ciba: profile.has_ciba, sign: sign?.sbid_phone };
  const ids = Object.entries(METHODS)
    .filter(([, m]) => m.kind === kind && available[m.family] && (!m.legacy || profile.legacy_methods))
    .map(([id]) => id);
  if (kind === 'sign' && sign) {
    const links = [...(sign.nbid_pki ? ['nbid-pki'] : []), ...sign.link_providers];
    // After Swedish BankID Phone, before the legacy methods.
    ids.splice(sign.sbid_phone ? 1 : 0, 0, ...links.map((p) => SIGN_LINK_PREFIX + p));
  }
  // The IT department's policy may allow only some methods (Identify's groups come filtered).
  const allowed = profile.policy_methods;
  return allowed ? ids.filter((id) => allowed.includes(id.startsWith(SIGN_LINK_PREFIX) ? 'sign_link' : id)) : ids;
}

// The CIBA login hint's label follows what the profile's provider expects.
export function fieldLabelKey(field, profile) {
  if (field === 'login_hint') return `field.login_hint.${profile.ciba_hint_kind ?? 'text'}`;
  return `field.${field}`;
}
