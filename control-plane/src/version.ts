// The hub's own version, and the JupyterHub REST API version it implements (what GET /hub/api and
// the X-JupyterHub-Version header report, so clients such as jupyterhub-singleuser and
// jupyterhub-idle-culler choose the features they use by it).
export const VERSION = '0.1.0'
export const JUPYTERHUB_API_VERSION = '6.0.0'
