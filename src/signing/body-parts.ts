/**
 * Which MIME leaves a mail client shows as the message body, decided while streaming: every node
 * arrives after its ancestors, so its place in the tree is known when its headers are.
 */
import type { MimeNode } from '@zone-eu/mailsplit';

/** Multiparts whose children are never a body we may edit. */
const OPAQUE_MULTIPARTS = new Set(['digest', 'report', 'signed', 'encrypted']);

export class BodyPartLocator {
  private readonly childIndex = new WeakMap<MimeNode, number>();
  private readonly childCount = new WeakMap<MimeNode, number>();

  /** Records a node's position among its siblings; call once per node, in stream order. */
  register(node: MimeNode): void {
    const parent = node.parentNode;
    if (!parent) return;
    const parentNode = parent;
    const index = this.childCount.get(parentNode) ?? 0;
    this.childCount.set(parentNode, index + 1);
    this.childIndex.set(node, index);
  }

  /** True when the node is inside an attached message (message/rfc822 or similar). */
  static insideAttachedMessage(node: MimeNode): boolean {
    for (let parent = node.parentNode; parent; parent = parent.parentNode) if (parent.rfc822) return true;
    return false;
  }

  /**
   * A text/plain or text/html leaf that is not an attachment, reached from the root only through
   * every child of multipart/alternative, the first (root) part of multipart/related and the first
   * part of multipart/mixed or any other multipart a client treats as mixed.
   */
  isBody(node: MimeNode): boolean {
    if (node.multipart || (node.contentType !== 'text/plain' && node.contentType !== 'text/html'))
      return false;
    // RFC 2183: an unrecognised disposition is treated as attachment.
    if ((node.disposition && node.disposition !== 'inline') || node.filename) return false;
    let child: MimeNode = node;
    for (let parent = node.parentNode; parent; parent = parent.parentNode) {
      if (parent.rfc822 || !parent.multipart || OPAQUE_MULTIPARTS.has(parent.multipart)) return false;
      if (parent.disposition === 'attachment') return false;
      if (parent.multipart !== 'alternative' && this.childIndex.get(child) !== 0) return false;
      child = parent;
    }
    return true;
  }

  /** Whether the node is the first child of a multipart/related parent (where images can join). */
  isRelatedRoot(node: MimeNode): boolean {
    const parent = node.parentNode;
    return !!parent && parent.multipart === 'related' && this.childIndex.get(node) === 0;
  }
}
