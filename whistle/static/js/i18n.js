// The browser modules' words in the page's language. The page names its catalogue
// (<meta name="whistle-catalogue">, /cy/i18n/catalogue.js for Welsh): an ES module the app serves
// from the gettext catalogue whistle-js.po, with the English text as each message's id. Without one
// (English, a test outside a page) every message is its English text.
//
//     import { t } from "./i18n.js";
//     t("Encrypting ${name}…", { name: file.name })
//
// `t` is the name `make messages` extracts from these modules; its first argument must be a string
// literal, so the catalogue can hold it.
const meta = typeof document === "undefined" ? null : document.querySelector('meta[name="whistle-catalogue"]');
const catalogue = meta ? (await import(meta.content)).default : {};

export function t(message, mapping = {}) {
  const text = catalogue[message] || message;
  return text.replace(/\$\{(\w+)\}/g, (whole, name) => (name in mapping ? String(mapping[name]) : whole));
}

// The page's language, for numbers and dates formatted by the browser (Intl).
export const pageLanguage = typeof document === "undefined" ? "en" : document.documentElement.lang || "en";
