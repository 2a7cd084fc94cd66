// Every staff page in device mode: signing out forgets the guardian's key kept for this tab
// (keyring.js). The session ends on the server too, which alone leaves nothing that opens it.

import { forgetKey } from "./keyring.js";

for (const form of document.querySelectorAll("form[data-sign-out]")) {
  form.addEventListener("submit", () => forgetKey());
}
