// Starts GOV.UK Frontend's components (character counts, menus). Pages work without it.
import { initAll } from "../govuk/govuk-frontend.min.js";

initAll();
