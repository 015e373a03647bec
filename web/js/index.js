// Entry page: only the shared chrome (window state and the helpdesk line).
import { initChrome } from "./ui.js";

initChrome();
