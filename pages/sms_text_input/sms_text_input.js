// The SMS text box with its live counter (Streamlit components v2).
//
// The counting rule mirrors sms_core/domain/segments.py exactly: `per_sms` characters per SMS,
// `per_unicode` when any character is outside the GSM 03.38 alphabet.  A GSM text is counted in
// characters (code points, Array.from); a Unicode text in UTF-16 code units (text.length), as the
// network bills it, so an emoji counts twice.  The 1000-character limit counts characters.  The alphabet and both sizes arrive from Python in `data` on every render, so the
// browser and the server cannot drift apart.  The text goes back to Python as state "draft"
// ({text, inserted}) shortly after typing stops and at once on blur; Python stays authoritative.
// Python changes the text only through two nonces: `reset` (replace the whole text) and
// `insert` (put a standard text at the cursor), so a rerun never overwrites what is being typed.

const STATE = Symbol.for("sms-text-input");
const REPORT_DELAY_MS = 300;

export function countSms(text, gsm, perSms, perUnicode) {
  const chars = Array.from(text);
  const nonGsm = [];
  for (const ch of chars) {
    if (!gsm.has(ch) && !nonGsm.includes(ch)) nonGsm.push(ch);
  }
  const unicode = nonGsm.length > 0;
  const per = unicode ? perUnicode : perSms;
  const characters = chars.length;
  const units = unicode ? text.length : characters;
  const segments = Math.ceil(units / per);
  const inCurrent = segments ? units - (segments - 1) * per : 0;
  return { characters, units, segments, inCurrent, per, unicode, nonGsm };
}

// Outside the Basic Multilingual Plane: a surrogate pair, two of a Unicode SMS's characters.
const takesTwoUnits = (ch) => ch.codePointAt(0) > 0xffff;

export function describe(count) {
  const sms = count.segments === 1 ? "SMS" : "SMS messages";
  let line = `${count.inCurrent}/${count.per} characters in current SMS · ${count.segments} ${sms}`;
  if (count.unicode) line += ` · sent as Unicode because of ${count.nonGsm.join(" ")}`;
  if (count.nonGsm.some(takesTwoUnits)) line += " · emoji count as 2 characters";
  return line;
}

function mount(root) {
  const box = root.querySelector("textarea");
  const s = { root, box, reset: undefined, inserted: undefined, sent: undefined, timer: null };
  s.count = (text) => countSms(text, s.gsm, s.data.per_sms, s.data.per_unicode);
  s.render = () => {
    const count = s.count(box.value);
    root.querySelector(".sms-counter").textContent = describe(count);
    const limit = root.querySelector(".sms-limit");
    limit.hidden = count.characters <= s.data.max_characters;
    limit.textContent = `The SMS text can have at most ${s.data.max_characters} characters (it has ${count.characters}).`;
  };
  s.report = () => {
    clearTimeout(s.timer);
    s.timer = null;
    if (box.value === s.sent) return;
    s.sent = box.value;
    s.setStateValue("draft", { text: box.value, inserted: s.inserted ?? null });
  };
  box.addEventListener("input", () => {
    s.render();
    clearTimeout(s.timer);
    s.timer = setTimeout(s.report, REPORT_DELAY_MS);
  });
  box.addEventListener("blur", s.report);
  root.smsCount = (text) => s.count(text); // for the browser tests of the shared vectors
  return s;
}

function insertAtCursor(box, text) {
  const start = box.selectionStart ?? box.value.length;
  const end = box.selectionEnd ?? start;
  box.value = box.value.slice(0, start) + text + box.value.slice(end);
  const caret = start + text.length;
  box.focus();
  box.setSelectionRange(caret, caret);
}

function applyPython(s, data) {
  if (s.reset === undefined) {
    // First render: show Python's copy of the text without reporting it back.
    s.box.value = data.value ?? "";
    s.sent = s.box.value;
    s.reset = data.reset;
  } else if (data.reset !== s.reset) {
    s.reset = data.reset;
    s.box.value = data.value ?? "";
    s.sent = undefined;
    s.report();
  }
  if (data.insert && data.insert.nonce !== s.inserted) {
    s.inserted = data.insert.nonce;
    insertAtCursor(s.box, data.insert.text);
    s.sent = undefined;
    s.report();
  }
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".sms-text-input");
  const s = root[STATE] ?? (root[STATE] = mount(root));
  s.data = data;
  s.setStateValue = setStateValue;
  if (s.alphabet !== data.gsm) {
    s.alphabet = data.gsm;
    s.gsm = new Set(Array.from(data.gsm));
  }
  root.querySelector(".sms-label").textContent = data.label;
  s.box.setAttribute("aria-label", data.label);
  s.box.placeholder = data.placeholder ?? "";
  s.box.disabled = Boolean(data.disabled);
  applyPython(s, data);
  s.render();
}
