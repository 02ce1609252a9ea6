/**
 * uvu's `suite`, with hooks that cannot hide a failure.
 *
 * uvu runs a suite's `before` hooks and tests in a `try` whose `finally` runs the `after`
 * hooks and then `return`s, so:
 * - an error thrown by `before` is swallowed: the suite reports "(0 / N)" with no reason;
 * - an error thrown by `after` (say, closing what `before` never got to open) escapes the
 *   runner and stops the whole process ("Exiting early before testing is finished"), and
 *   the message printed is that second error, not the first.
 * Here a `before` error is printed with its stack before uvu swallows it, and an `after`
 * error is printed and marks the run failed without ending it. Suites that use hooks
 * import `suite` from here instead of from 'uvu'.
 */
import { suite as uvuSuite, type Callback, type Test } from 'uvu';

type Hook<T> = Callback<T>;

export function suite<T = Record<string, any>>(name: string, state?: T): Test<T> {
  const test = uvuSuite<T>(name, state);
  const before = test.before;
  const after = test.after;
  // uvu swallows what `before` throws: say it, and rethrow so that no test runs.
  const wrappedBefore = (hook: Hook<T>) => before(reporting(hook, `set-up of "${name}" failed, its tests did not run`, true));
  // What `after` throws would end the whole run: say it, and go on.
  const wrappedAfter = (hook: Hook<T>) => after(reporting(hook, `tear-down of "${name}" failed`, false));
  test.before = Object.assign(wrappedBefore, { each: before.each });
  test.after = Object.assign(wrappedAfter, { each: after.each });
  return test;
}

/** The hook, printing its error (with the stack) and marking the run failed when it throws. */
function reporting<T>(hook: Hook<T>, what: string, rethrow: boolean): Hook<T> {
  return async (context) => {
    try {
      await hook(context);
    } catch (err) {
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      console.error(`\n  ✘ ${what}:\n${text.replace(/^/gm, '    ')}`);
      process.exitCode = 1;
      if (rethrow) throw err;
    }
  };
}
