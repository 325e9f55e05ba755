export { enableScript, installScript, objectNames, removeScript, type ScriptOptions } from './script.js';
export { cmdletReference, commonParameters } from './cmdlet-reference.js';
export {
  catalogue,
  enhancedStatusOf,
  explainReply,
  explainTraceEvent,
  explanationLine,
  exchangeReplies,
  type ReplyExplanation,
} from './replies.js';
