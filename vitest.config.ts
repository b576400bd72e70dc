import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'data/**', 'bench/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    // the Docker engine of the docker spawner's tests: started by the first file that needs it, stopped at the end;
    // the run's mark on every hub and proxy the harness starts, and a failure for any still running at the end
    globalSetup: ['test/support/docker.ts', 'test/support/leftovers.ts'],
    // stacks a test file started and never stopped (a start outliving its hook's timeout) stopped when it ends
    setupFiles: ['test/support/stop-stacks.ts'],
  },
})
