// Faults a test (or a curious user) can switch on in the simulated devices; the models read this object on
// every transfer, so flipping a flag takes effect at the next reading.
export interface SimFaults {
  /** The device no longer acknowledges its address (EREMOTEIO). */
  nack?: boolean;
  /** SHT3x/SHT4x: the CRC byte of the temperature word is wrong. */
  corruptCrc?: boolean;
  /** BME280 status bit "measuring" / ADS1115 OS bit never clears. */
  stuckBusy?: boolean;
  /** BME280/BMP280: the chip id register reads this instead. */
  chipId?: number;
  /** DS18B20: the scratchpad still holds the 85 degC power-on value. */
  powerOn?: boolean;
  /** DS18B20: the w1 driver reports crc=... NO. */
  crcNo?: boolean;
}
