/**
 * Preloaded (`node --import`) into every Node process of the local stack. The stack spawns them in
 * their own process group, so Ctrl-C reaches only the stack, which stops them in order; this is what
 * stops them when the stack itself is gone, even killed -9: the IPC channel closes and the child
 * stops as if asked to (SIGTERM: the front drains, the host finishes, Azurite saves its data).
 */
if (process.channel) {
  // The channel must not keep a child alive that has finished its own shutdown.
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

export {};
