// Starts govuk-frontend's components (header menu, error summary focus, notification banner,
// radios/checkboxes conditional reveal, service navigation). A module file, not an inline
// script, so a Content-Security-Policy without 'unsafe-inline' allows it. Browsers without
// ES modules never run it and get the plain HTML, which works on its own.
import { initAll } from "../vendor/govuk-frontend/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
