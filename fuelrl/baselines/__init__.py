"""fuelrl.baselines"""
