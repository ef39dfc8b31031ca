"""fuelrl.physics"""
