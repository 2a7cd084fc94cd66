// One side of the round trip in tests/unit/crypto/test_js_reporter.py: reads a published key
// directory (signed in Python), the organisation's public key and a report from stdin, opens the
// directory and builds the case with reporter.js exactly as intake.js does, and writes the body it
// would post (and the receipt, which only the device keeps) to stdout. Also prints reporter.js's
// form messages, which the test compares with the server's.
import { readFileSync } from "node:fs";

import * as c from "../../whistle/static/js/crypto.js";
import * as r from "../../whistle/static/js/reporter.js";

const input = JSON.parse(readFileSync(0, "utf8"));
const document = c.openDirectory(input.published, c.fromBase64(input.public_key), { now: new Date(input.now) });
const { report, errors } = r.checkReport(input.channel, input.form);
const built = report ? r.buildCase(document, input.slug, report, { leftOut: input.left_out }) : null;
process.stdout.write(JSON.stringify({
  errors,
  body: built && built.body,
  receipt: built && built.receipt,
  messages: r.MESSAGES,
}));
