export { Allowlist, allowlistFor, exchangeOnlineRanges, loopbackRanges } from './allowlist.js';
export { CertificateFiles, type KeyPair } from './certificate.js';
export {
  FrontServer,
  frontLimits,
  type AcceptedMessage,
  type ClientCertificatePolicy,
  type FrontLimits,
  type FrontOptions,
} from './front-server.js';
export { HeaderCapture, parseHeaderBlock } from './header-capture.js';
export {
  addressProblem,
  checkTenantHeaders,
  createAdmission,
  type Admission,
  type AdmissionOptions,
  type SessionFacts,
} from './admission.js';
export { installReplyCodes } from './wire.js';
export { listenSmtp } from './listen.js';
