// What the staff pages' own scripts (the sign-in and password pages) share: posting a form for a
// JSON answer, and a refusal that names the field it is about, in the server's own words.

import { t } from "./i18n.js";

export const OFFLINE = t("Could not reach the service. Check your connection and try again.");

/** A refusal to show in the form: the words, and the field they are about (or null). */
export class Refused extends Error {
  constructor(message, field) {
    super(message);
    this.field = field;
  }
}

/** The JSON of a 2xx answer; a problem document's first named field (or its detail) as Refused. */
export async function answerOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new Error("not JSON");
  }
  if (response.ok) return body;
  const named = Array.isArray(body.errors) && body.errors.length ? body.errors[0] : null;
  if (body && body.detail) throw new Refused(named ? named.message : body.detail, named ? named.field : null);
  throw new Error(`status ${response.status}`);
}

/** POST `body` to `url` with the session's cookie, asking for JSON; answerOf's result. */
export async function post(url, body, contentType) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": contentType },
      body,
    });
  } catch {
    throw new Refused(OFFLINE, null);
  }
  return answerOf(response);
}
