/** The dis.io version every part reports in GetInfo, Join and Register. */
export const VERSION = "0.1.0";
