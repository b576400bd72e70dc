// The hub's version, as the API reports it.
export const VERSION = '0.1.0'
