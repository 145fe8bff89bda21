/** Entry of the panel bundle (esbuild, platform browser, iife). */
import '../shared/litNonce';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { getVsCodeApi } from '../shared/vscodeApi';
import { startPanel } from './app';
import type { PersistedPanelState } from './state';

startPanel(document, getVsCodeApi<PersistedPanelState>());
