"""fuelrl.callbacks"""
