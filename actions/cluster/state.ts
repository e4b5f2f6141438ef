/** The names under which the main step hands the post step what it deployed (`saveState`/`getState`). */
export const clusterState = { cluster: 'cluster', keep: 'keep', url: 'url', audience: 'audience' } as const;
