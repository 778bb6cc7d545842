// What every driver returns: named values with their units.

export interface Reading {
  /** Chip as detected, e.g. "BME280" or "BMP280". */
  model: string;
  values: Record<string, number>;
  units: Record<string, string>;
  /** Which device answered, when the configuration did not say (DS18B20: the first one found). */
  device?: string;
}
