import type { Explanation } from './signatures.js';

/** The preview as JSON for admins (HTTP): the same facts the CLI prints, images described, not inlined. */
export function previewJson(explanation: Explanation): Record<string, unknown> {
  const { resolution } = explanation;
  const result =
    resolution.action === 'sign'
      ? {
          action: 'sign',
          rule: resolution.content.rule,
          template: resolution.content.template,
          placement: resolution.content.placement,
          html: resolution.content.html,
          text: resolution.content.text,
          images: resolution.content.images.map((i) => ({
            cid: i.cid,
            contentType: i.contentType,
            filename: i.filename,
            bytes: i.content.length,
          })),
        }
      : resolution;
  return {
    tenant: explanation.tenant,
    user: explanation.user,
    messageType: explanation.messageType,
    audience: explanation.audience,
    rules: explanation.verdicts,
    result,
  };
}
