// The case export's rules for names in the archive's files/ folder and for passphrases: the twins of
// whistle/workspace/export.py's safe_names and passphrase_errors (tests/unit/test_export_names.py
// runs both on the same names). It imports only i18n.js, which node runs as it is (in English).

import { t } from "./i18n.js";

const UNSAFE = /[<>:"/\\|?*\x00-\x1f\x7f]/g; // eslint-disable-line no-control-regex
const RESERVED = new Set(["con", "prn", "aux", "nul", ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((i) => [`com${i}`, `lpt${i}`])]);
const MAX_NAME = 100;

function trimDotsAndSpaces(text) {
  return text.replace(/^[ .]+|[ .]+$/g, "");
}

export function safeName(name) {
  let text = String(name).normalize("NFC").replace(/\\/g, "/");
  text = trimDotsAndSpaces(text.slice(text.lastIndexOf("/") + 1).replace(UNSAFE, "_"));
  const dot = text.lastIndexOf(".");
  let stem = dot >= 0 ? text.slice(0, dot) : text;
  let extension = dot >= 0 ? text.slice(dot + 1) : "";
  let hasDot = dot >= 0;
  if ([...extension].length > 16) {
    stem = text;
    extension = "";
    hasDot = false;
  }
  if (RESERVED.has(stem.toLowerCase())) stem = `_${stem}`;
  stem = [...stem].slice(0, MAX_NAME).join("").replace(/[ .]+$/, "");
  return (stem || "file") + (hasDot && extension ? `.${extension}` : "");
}

/** Each name made safe and unique, ignoring case: a second "minutes.pdf" is "minutes (2).pdf". */
export function safeNames(names) {
  const taken = new Set();
  return names.map((name) => {
    const safe = safeName(name);
    const dot = safe.lastIndexOf(".");
    const [stem, extension] = dot > 0 ? [safe.slice(0, dot), safe.slice(dot)] : [safe, ""];
    let candidate = safe;
    for (let number = 2; taken.has(candidate.toLowerCase()); number += 1) candidate = `${stem} (${number})${extension}`;
    taken.add(candidate.toLowerCase());
    return candidate;
  });
}

/** {field name: what is wrong}, as export.passphrase_errors; {} for no passphrase, or a good one twice. */
export function passphraseErrors(passphrase, again, min) {
  if (!passphrase && !again) return {};
  if ([...passphrase].length < min) {
    return { passphrase: t("Use at least ${min} characters, or leave both passphrase fields empty for an archive that is not encrypted.", { min }) };
  }
  if (again !== passphrase) return { passphrase_again: t("This is not the same as the passphrase: type it again.") };
  return {};
}
