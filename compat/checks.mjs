// The checks of the compat runs (compat/*/run.mjs): each prints "ok" or "FAIL" with its stack and
// the run goes on; `failures()` is how many failed. Plain JavaScript with no imports, so each run
// uses it from its own directory whatever its node_modules hold.

let failed = 0;

export async function check(name, body) {
  try {
    await body();
    console.log(`ok   ${name}`);
  } catch (error) {
    failed++;
    console.log(`FAIL ${name}\n${error?.stack ?? error}`);
  }
}

export const failures = () => failed;
