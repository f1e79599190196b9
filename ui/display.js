// The customer display. It has no IPC access at all (no command, no event): Rust hands it each
// frame by calling `window.__iddeskDisplay.show(frame)` (src-tauri/src/display.rs). A frame is
// `{merchant, lang, screen: {type, text?, data?, svg?}}` and never carries anything about the
// customer. Texts are set with textContent; the only markup inserted is the QR SVG that our own
// Rust code rendered.
const TEXT = {
  en: {
    idle: 'Welcome', open_app: 'Open the BankID app on your phone', open_app_note: 'and follow the instructions there.',
    words: 'In your BankID app, choose these words:', qr: 'Scan the code with your BankID app',
    qr_note: 'Open BankID and tap the QR code button.', sign_qr: 'Scan the code with your phone\'s camera',
    sign_qr_note: 'Read the text on your phone and sign there.', thank_you: 'Thank you', thank_you_note: 'All done.',
    try_again: 'That did not go through', try_again_note: 'Nothing happened. We can try again.',
  },
  nb: {
    idle: 'Velkommen', open_app: 'Åpne BankID-appen på telefonen din', open_app_note: 'og følg instruksjonene der.',
    words: 'Velg disse ordene i BankID-appen:', qr: 'Skann koden med BankID-appen',
    qr_note: 'Åpne BankID og trykk på QR-knappen.', sign_qr: 'Skann koden med kameraet på telefonen',
    sign_qr_note: 'Les teksten på telefonen og signer der.', thank_you: 'Takk', thank_you_note: 'Alt er i orden.',
    try_again: 'Det gikk ikke denne gangen', try_again_note: 'Ingenting er gjort. Vi kan prøve igjen.',
  },
  sv: {
    idle: 'Välkommen', open_app: 'Öppna BankID-appen i din telefon', open_app_note: 'och följ instruktionerna där.',
    words: 'Välj de här orden i BankID-appen:', qr: 'Skanna koden med BankID-appen',
    qr_note: 'Öppna BankID och tryck på QR-knappen.', sign_qr: 'Skanna koden med telefonens kamera',
    sign_qr_note: 'Läs texten i telefonen och skriv under där.', thank_you: 'Tack', thank_you_note: 'Allt är klart.',
    try_again: 'Det gick inte den här gången', try_again_note: 'Ingenting har hänt. Vi kan försöka igen.',
  },
};
// "Thank you" / "Try again" stay this long, then the display greets the next customer.
const FINAL_MS = 20000;

const $ = (id) => document.getElementById(id);
let idleTimer;

function show(frame) {
  const text = TEXT[frame.lang] ?? TEXT.en;
  const screen = frame.screen ?? { type: 'idle' };
  clearTimeout(idleTimer);
  document.documentElement.lang = TEXT[frame.lang] ? frame.lang : 'en';
  document.body.dataset.screen = screen.type;
  $('merchant').textContent = frame.merchant ?? '';
  $('lead').textContent = text[screen.type] ?? '';
  $('note').textContent = text[`${screen.type}_note`] ?? '';
  const words = $('words');
  words.textContent = screen.type === 'words' ? screen.text : '';
  words.hidden = screen.type !== 'words';
  const qr = $('qr');
  const code = screen.type === 'qr' || screen.type === 'sign_qr';
  if (code) {
    qr.innerHTML = screen.svg; // rendered by our Rust code from the payload, never from the network
    qr.dataset.payload = screen.data;
    // The text alternative says what to do with the code, in the customer's language.
    qr.setAttribute('aria-label', `${text[screen.type] ?? ''}. ${text[`${screen.type}_note`] ?? ''}`);
  } else {
    qr.replaceChildren();
    delete qr.dataset.payload;
  }
  qr.hidden = !code;
  if (screen.type === 'thank_you' || screen.type === 'try_again') {
    idleTimer = setTimeout(() => show({ ...frame, screen: { type: 'idle' } }), FINAL_MS);
  }
}

window.__iddeskDisplay = Object.freeze({ show });
// A frame Rust pushed before this module ran (see src-tauri/src/display.rs).
if (window.__iddeskPending) {
  show(window.__iddeskPending);
  delete window.__iddeskPending;
}
