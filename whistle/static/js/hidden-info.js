// Hidden information taken out of a reporter's photo on their device, before it is encrypted (the
// server never sees a file encrypted here, so it cannot do it: the whistle_clean_file plugin cleans
// only what reaches it in the clear). A JPEG or PNG is decoded by the browser, with its EXIF
// orientation applied, drawn on a canvas and encoded again: the new file holds the pixels and nothing
// else (no EXIF, GPS, XMP, ICC profile, comments or text chunks). Every other kind of file (PDFs,
// office documents, other images) is sent as it is, and says so.
//
// The outcome travels in the file's encrypted details (its attachment-meta item, as
// "metadata_removal"), so only the people who can open the file learn it.

import { t } from "./i18n.js";

const JPEG = [0xff, 0xd8, 0xff];
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CLAIMS_IMAGE = /\.(jpe?g|jfif|png)$/i;
// Larger than any phone's photo; past it a canvas may fail or take the device's memory.
export const MAX_PIXELS = 100_000_000;

// The outcomes and their words, as whistle.words.METADATA_REMOVAL_WORDS says them, in the page's language.
export const REMOVAL_WORDS = {
  removed: t("Hidden information removed (EXIF, document properties)"),
  unsupported: t("Could not remove hidden information: format not supported"),
  unreadable: t("Could not remove hidden information: the file could not be read, so it is kept as sent"),
  too_large: t("Could not remove hidden information: the file is too large, so it is kept as sent"),
};

function startsWith(bytes, magic) {
  return magic.every((value, i) => bytes[i] === value);
}

/** `file` without its hidden information, and what came of it ("removed", "unsupported",
 *  "unreadable"): { file, outcome }. A file that cannot be cleaned is returned as it is. */
export async function removeHiddenInfo(file) {
  const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  const type = startsWith(head, JPEG) ? "image/jpeg" : startsWith(head, PNG) ? "image/png" : null;
  if (type === null) return { file, outcome: CLAIMS_IMAGE.test(file.name) ? "unreadable" : "unsupported" };
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    return { file, outcome: "unreadable" };
  }
  try {
    if (!bitmap.width || !bitmap.height || bitmap.width * bitmap.height > MAX_PIXELS) return { file, outcome: "unreadable" };
    const canvas = document.createElement("canvas");
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    canvas.getContext("2d").drawImage(bitmap, 0, 0);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, type, 0.95));
    if (!blob) return { file, outcome: "unreadable" };
    return { file: new File([blob], file.name, { type }), outcome: "removed" };
  } finally {
    bitmap.close();
  }
}
