/**
 * A mistake in how a command was called — a flag, an argument or a setting's value: the
 * command says what is wrong and exits 2. The one such error of the CLI, the server's
 * configuration and the bench runner.
 */
export class UsageError extends Error {
  override name = "UsageError";
}
