// athena-pool web front-end configuration (the counterpart of the reference pool's config.js).
// Everything left empty is taken from the pool's API (/api/v1/config).
window.ATHENA_POOL_CONFIG = {
  // Base URL of the pool's HTTP API; "" when the API serves this page (the embedded default).
  // Behind nginx on another host: "https://pool.example.com:8117" (add that origin to api.cors_origins).
  api: "",
  // Coin name and symbol shown on the site; "" = the pool's coin.
  coinName: "",
  symbol: "",
  // Host miners connect to; "" = the API's pool_host, else this page's host name.
  poolHost: "",
  // Explorer URL templates; {id} is replaced by the block or transaction hash. "" = the API's.
  blockExplorer: "",
  transactionExplorer: "",
  // Links shown in the footer, added to the API's: { name: "Telegram", url: "https://t.me/..." }.
  links: [
    // { name: "Telegram", url: "https://t.me/yourpool" },
    // { name: "Discord", url: "https://discord.gg/yourpool" },
  ],
  // Seconds between refreshes of the live figures.
  refreshSeconds: 10,
};
