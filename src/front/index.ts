export { FrontServer, type AcceptedMessage, type FrontOptions } from './front-server.js';
export { HeaderCapture, parseHeaderBlock } from './header-capture.js';
export { basicPolicy, checkTenantHeaders, type FrontPolicy, type SessionFacts } from './policy.js';
export { installReplyCodes } from './wire.js';
