/** Renderer tests see the English catalogue, as a reader whose system speaks English. */
import { createI18n } from '../i18n.js';

createI18n('en');
