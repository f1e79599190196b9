// What each method needs from the agent. The engine validates again before any request.
export const METHODS = {
  nbid_safe_conversation: { kind: 'auth', family: 'rest', fields: ['nin'] },
  nbid_mobile: { kind: 'auth', family: 'rest', fields: ['phone', 'birthdate'] },
  sbid_qr: { kind: 'auth', family: 'rest', fields: ['pnr_optional'] },
  sbid_app_launch: { kind: 'auth', family: 'rest', fields: ['pnr_optional'] },
  nbid_inapp: { kind: 'auth', family: 'oidc', fields: ['phone', 'birthdate'] },
  sbid_inapp: { kind: 'auth', family: 'oidc', fields: ['pnr'] },
  nbid_sign: { kind: 'sign', family: 'oidc', fields: ['phone', 'birthdate'] },
  sbid_sign: { kind: 'sign', family: 'oidc', fields: ['pnr'] },
};

// UI field → RawFlowInput key, input hints.
export const FIELDS = {
  nin: { key: 'nin', inputmode: 'numeric', autocomplete: 'off', placeholder: '11 digits' },
  pnr: { key: 'nin', inputmode: 'numeric', autocomplete: 'off', placeholder: 'YYYYMMDD-NNNN' },
  pnr_optional: { key: 'nin', inputmode: 'numeric', autocomplete: 'off', placeholder: 'YYYYMMDD-NNNN', optional: true },
  phone: { key: 'phone', inputmode: 'tel', autocomplete: 'off', placeholder: '+47 999 99 999' },
  birthdate: { key: 'birthdate', inputmode: 'numeric', autocomplete: 'off', placeholder: 'YYYY-MM-DD' },
};

export function methodsFor(kind, hasOidc) {
  return Object.entries(METHODS)
    .filter(([, m]) => m.kind === kind && (m.family === 'rest' || hasOidc))
    .map(([id]) => id);
}
